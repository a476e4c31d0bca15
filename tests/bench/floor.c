/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-floor: the least any device model can cost a guest's port access in this bed.
 *
 *   hvmd-floor DOMID PORT [VALUE]
 *
 * Registers an ioreq server of its own for domain DOMID, beside the domain's device model (hvmd
 * or qemu-xen), claims the single I/O port PORT, answers every read of it with VALUE (default
 * 0x5a, in every byte of the access) and drops every write. Anything else Xen hands it (the map
 * cache invalidations every ioreq server receives) is answered at once. It does nothing else
 * per request: block in xenevtchn_pending, unmask, copy the slot, answer, notify (with
 * HVMD_FLOOR_UNMASK=late in its environment: the unmask after the notify, hvmd's order, for
 * hvmd-floor-late: which order is the least in this bed). The guest's
 * hvmd-portbench (images/guest/portbench.c) times accesses to PORT against accesses to a port
 * of the device model, in the same boot (make bench's hvmd-floor / qemu-floor).
 *
 * Exits on SIGTERM or SIGINT, destroying its server; prints one line at exit:
 *   hvmd-floor: served N (reads R, writes W, other O), cpu U ms
 * Built by the Makefile (build/hvmd-floor) into the bed's dom0 as
 * /usr/lib/hvmd/tests/hvmd-floor; not part of hvmd. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <xenctrl.h> /* first: it defines __XEN_TOOLS__ for the public headers below */
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/ioreq.h>

#define MAX_VCPUS 64

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hvmd-floor DOMID PORT [VALUE]\n");
        return 2;
    }
    domid_t domid = (domid_t)strtoul(argv[1], NULL, 0);
    unsigned long port = strtoul(argv[2], NULL, 0);
    unsigned long value = argc > 3 ? strtoul(argv[3], NULL, 0) : 0x5a;
    if (port > 0xffff || value > 0xff) {
        fprintf(stderr, "hvmd-floor: PORT must be below 0x10000 and VALUE a byte\n");
        return 2;
    }
    uint64_t answer = (uint64_t)value * 0x0101010101010101ull;
    const char *order = getenv("HVMD_FLOOR_UNMASK");
    int late = order && !strcmp(order, "late");

    xendevicemodel_handle *dmod = xendevicemodel_open(NULL, 0);
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);
    if (!dmod || !xce || !fmem) {
        fprintf(stderr, "hvmd-floor: opening Xen's interfaces: %s\n", strerror(errno));
        return 1;
    }
    unsigned nr = 0;
    if (xendevicemodel_nr_vcpus(dmod, domid, &nr) < 0 || nr == 0 || nr > MAX_VCPUS) {
        fprintf(stderr, "hvmd-floor: domain %u: %u vCPUs (%s)\n", domid, nr, strerror(errno));
        return 1;
    }
    ioservid_t id;
    if (xendevicemodel_create_ioreq_server(dmod, domid, HVM_IOREQSRV_BUFIOREQ_OFF, &id) < 0) {
        fprintf(stderr, "hvmd-floor: create_ioreq_server: %s\n", strerror(errno));
        return 1;
    }
    int rc = 1;
    void *addr = NULL;
    xenforeignmemory_resource_handle *res = xenforeignmemory_map_resource(
        fmem, domid, XENMEM_resource_ioreq_server, id, XENMEM_resource_ioreq_server_frame_ioreq(0),
        1, &addr, PROT_READ | PROT_WRITE, 0);
    if (!res) {
        fprintf(stderr, "hvmd-floor: map_resource: %s\n", strerror(errno));
        goto out;
    }
    shared_iopage_t *shared = addr;
    if (xendevicemodel_set_ioreq_server_state(dmod, domid, id, 1) < 0) {
        fprintf(stderr, "hvmd-floor: set_ioreq_server_state: %s\n", strerror(errno));
        goto out;
    }
    evtchn_port_t local[MAX_VCPUS];
    for (unsigned i = 0; i < nr; i++) {
        xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(xce, domid, shared->vcpu_ioreq[i].vp_eport);
        if (p < 0) {
            fprintf(stderr, "hvmd-floor: binding vCPU %u's event channel: %s\n", i, strerror(errno));
            goto out;
        }
        local[i] = (evtchn_port_t)p;
    }
    /* the range last: no request for it can arrive before the channels are bound */
    if (xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, id, 0, port, port) < 0) {
        fprintf(stderr, "hvmd-floor: map_io_range 0x%lx: %s\n", port, strerror(errno));
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the blocking read returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "hvmd-floor: ioreq server %u for domain %u claims port 0x%lx (reads 0x%02lx, "
            "unmask %s the notify)\n", id, domid, port, value, late ? "after" : "before");

    unsigned long reads = 0, writes = 0, other = 0;
    while (!stop) {
        xenevtchn_port_or_error_t p = xenevtchn_pending(xce);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "hvmd-floor: xenevtchn_pending: %s\n", strerror(errno));
            break;
        }
        if (!late)
            xenevtchn_unmask(xce, (evtchn_port_t)p);
        for (unsigned i = 0; i < nr; i++) {
            if (local[i] != (evtchn_port_t)p)
                continue;
            ioreq_t *slot = &shared->vcpu_ioreq[i];
            if (slot->state != STATE_IOREQ_READY)
                break;
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            ioreq_t req = *slot; /* copy once */
            if (req.type == IOREQ_TYPE_PIO && !req.data_is_ptr) {
                if (req.dir == IOREQ_READ) {
                    slot->data = req.size >= 8 ? answer : answer & ((1ull << (req.size * 8)) - 1);
                    reads++;
                } else {
                    writes++;
                }
            } else {
                other++; /* invalidations; a rep access is answered with nothing moved */
            }
            __atomic_thread_fence(__ATOMIC_RELEASE);
            slot->state = STATE_IORESP_READY;
            xenevtchn_notify(xce, local[i]);
            break;
        }
        if (late)
            xenevtchn_unmask(xce, (evtchn_port_t)p);
    }
    rc = 0;
out:
    xendevicemodel_destroy_ioreq_server(dmod, domid, id);
    if (res)
        xenforeignmemory_unmap_resource(fmem, res);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (rc == 0)
        fprintf(stderr, "hvmd-floor: served %lu (reads %lu, writes %lu, other %lu), cpu %ld ms\n",
                reads + writes + other, reads, writes, other,
                (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
    return rc;
}
