/* SPDX-License-Identifier: GPL-2.0-only */
/* The real hypervisor backend: an ioreq server for one HVM domain through libxendevicemodel,
 * its shared and buffered ioreq pages through xenforeignmemory_map_resource (or, where the
 * resource interface is missing, get_ioreq_server_info + xenforeignmemory_map of the legacy
 * frames), one event channel per vCPU plus the buffered one, and guest memory through
 * xenforeignmemory_map. Implements hv.h for the rest of hvmd. */
#ifndef HVMD_XEN_H
#define HVMD_XEN_H

#include <stddef.h>
#include <stdint.h>
#include "dm/hv.h"
#include "dm/restrict.h"
#include "dm/util.h"
#include "dm/vm.h"

struct xen;

/* Open the libraries, create the ioreq server for DOMID (buffered ioreqs, atomic), map its
 * pages, enable it and bind its event channels. No range is routed to it yet, so no request
 * arrives before xen_attach. NULL with ERR set on failure (nothing left behind). */
struct xen *xen_open(uint32_t domid, char *err, size_t errlen);
/* Before xen_open, under dm_restrict: the privileged helper (hvmd-xc) it forks opens its
 * hypercall handle as root, then chroots to P's directory and drops to P's user too (privcmd
 * checks no credentials once open); P must outlive xen_open. NULL: the helper stays root. */
void xen_set_helper_drop(const struct restrict_plan *p);
/* For -machine xenpv (a PV or PVH guest: no ioreq server, no emulated devices, PV backends
 * only): the device model and foreign memory handles, nothing created for the domain;
 * xen_attach is not called, xen_set_enabled does nothing. */
struct xen *xen_open_pv(uint32_t domid, char *err, size_t errlen);
const struct hv *xen_hv(struct xen *x);
unsigned xen_vcpus(const struct xen *x);
/* Start serving VM's requests from LOOP. */
int xen_attach(struct xen *x, struct vm *vm, struct loop *loop) WUR;
/* Enable / disable the ioreq server (QMP cont / stop). */
int xen_set_enabled(struct xen *x, int enabled);
/* Stop serving: destroy the ioreq server (Xen forgets every range with it). Range releases
 * and interrupt changes after this are no-ops; guest memory stays mapped until xen_close. */
void xen_stop(struct xen *x);
/* dm_restrict (-xen-domid-restrict): from now on the device model, foreign memory and event
 * channel handles reach this domain only (IOCTL_PRIVCMD_RESTRICT on both privcmd handles,
 * IOCTL_EVTCHN_RESTRICT_DOMID). The privileged helper (hvmd-xc) keeps its own handle, for the
 * few hypercalls of this domain it makes. With HVMD_RESTRICT_PROBE=D in the environment (a
 * test hook), the same one-page read-only map of domain D's gfn 0 and a dm_op on D are tried
 * before (through a handle opened for it) and after (through hvmd's own handles), and logged.
 * 0 or a negative errno with ERR set. */
int xen_restrict(struct xen *x, char *err, size_t errlen) WUR;
/* Release everything (after the vm is gone: its map cache unmaps through this). */
void xen_close(struct xen *x);

#endif
