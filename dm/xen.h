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
#include "dm/util.h"
#include "dm/vm.h"

struct xen;

/* Open the libraries, create the ioreq server for DOMID (buffered ioreqs, atomic), map its
 * pages, enable it and bind its event channels. No range is routed to it yet, so no request
 * arrives before xen_attach. NULL with ERR set on failure (nothing left behind). */
struct xen *xen_open(uint32_t domid, char *err, size_t errlen);
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
/* Release everything (after the vm is gone: its map cache unmaps through this). */
void xen_close(struct xen *x);

#endif
