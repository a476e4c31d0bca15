/* SPDX-License-Identifier: GPL-2.0-only */
/* The Xen backend (see xen.h). The order follows what Xen expects: the pages are mapped
 * before the server is enabled (legacy frames are taken out of the guest's physmap at enable),
 * event channels bound before any range is registered, and requests are answered with the
 * slot's state set last. A buffered request that was queued before a synchronous one must be
 * handled first, so every wake-up drains the buffered ring before looking at the vCPU slots. */
#include <xenctrl.h> /* first: it defines __XEN_TOOLS__ for the public headers below */
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>

#include "dm/xen.h"
#include "dm/ioreq.h"
#include "dm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_VCPUS (PAGE / sizeof(ioreq_t))

struct xen {
    uint32_t domid;
    ioservid_t id;
    int have_server;
    int dead;                       /* server destroyed: range releases are no-ops */
    xendevicemodel_handle *dmod;
    xenforeignmemory_handle *fmem;
    xenevtchn_handle *xce;
    xenforeignmemory_resource_handle *res;
    void *pages;                    /* resource mapping: buffered page, then shared page */
    void *legacy_shared, *legacy_buf;
    shared_iopage_t *shared;
    buffered_iopage_t *buffered;
    unsigned nr_vcpus;
    evtchn_port_t *local_port;      /* per vCPU */
    evtchn_port_t buf_port;
    int buf_bound;
    struct vm *vm;
    struct loop *loop;
    pthread_t server;               /* serving requests (xen_attach) */
    int server_up;
    struct hv hv;
    int helper_fd;                  /* the privileged helper's socket, -1: none */
    pid_t helper_pid;
};

/* ---- the privileged helper ----
 * Three things hvmd asks of Xen are hypercalls, not dm_ops: the vCPUs' state
 * (XEN_DOMCTL_getvcpuinfo, for QMP query-cpus-fast), HVM_PARAM_ACPI_S_STATE (HVMOP_set_param,
 * for S3 and system_wakeup) and the power button (XEN_DOMCTL_sendtrigger, for
 * system_powerdown), and pausing the domain (XEN_DOMCTL_pausedomain / unpausedomain, for the
 * stop policy on host I/O errors). They go through libxenctrl's IOCTL_PRIVCMD_HYPERCALL, which the sandbox
 * refuses (allowing it would allow every hypercall). So a child forked at xen_open, before
 * anything else is opened and before the sandbox, does them for this one domain, on request
 * over a socket pair, and nothing else; it ends when hvmd's end closes (or hvmd dies). */
enum { H_VCPUS = 1, H_S_STATE = 2, H_POWER = 3, H_POPULATE = 4, H_PAUSE = 5 };
struct helper_req {
    uint32_t op, arg;
    uint64_t gfn;                   /* H_POPULATE: ARG pages from GFN on */
};
struct helper_rep {
    int32_t rc;
    uint8_t online[16];             /* vCPUs 0-127: up */
};

static const struct restrict_plan *helper_plan;

void xen_set_helper_drop(const struct restrict_plan *p)
{
    helper_plan = p;
}

static void helper_serve(int fd, uint32_t domid)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    /* dm_restrict: the handle is open; the helper needs root no more (restrict.h) */
    if (helper_plan && helper_plan->runas &&
        ((helper_plan->chroot_dir && (chroot(helper_plan->chroot_dir) < 0 || chdir("/") < 0)) ||
         restrict_drop_ids(helper_plan->uid, helper_plan->gid) < 0))
        _exit(1);
    struct helper_req rq;
    while (read(fd, &rq, sizeof(rq)) == (ssize_t)sizeof(rq)) {
        struct helper_rep rp;
        memset(&rp, 0, sizeof(rp));
        errno = 0;
        if (!xch) {
            rp.rc = -EACCES;
        } else if (rq.op == H_VCPUS) {
            xc_dominfo_t info;
            if (xc_domain_getinfo(xch, domid, 1, &info) != 1 || info.domid != domid) {
                rp.rc = -ESRCH;
            } else {
                for (unsigned i = 0; i <= info.max_vcpu_id && i < 8 * sizeof(rp.online); i++) {
                    xc_vcpuinfo_t vi;
                    if (xc_vcpu_getinfo(xch, domid, i, &vi) == 0 && vi.online)
                        rp.online[i / 8] |= (uint8_t)(1u << (i % 8));
                }
            }
        } else if (rq.op == H_S_STATE && (rq.arg == 0 || rq.arg == 3)) {
            rp.rc = xc_hvm_param_set(xch, domid, HVM_PARAM_ACPI_S_STATE, rq.arg) < 0
                        ? (errno ? -errno : -EIO) : 0;
        } else if (rq.op == H_POPULATE && rq.arg > 0 && rq.arg <= (256u << 20) / 4096) {
            /* video RAM: new pages for the domain, from its own allowance (the hypervisor
             * refuses what exceeds the domain's maximum) */
            xen_pfn_t *pfns = malloc(rq.arg * sizeof(*pfns));
            if (!pfns) {
                rp.rc = -ENOMEM;
            } else {
                for (uint32_t i = 0; i < rq.arg; i++)
                    pfns[i] = (xen_pfn_t)(rq.gfn + i);
                rp.rc = xc_domain_populate_physmap_exact(xch, domid, rq.arg, 0, 0, pfns) < 0
                            ? (errno ? -errno : -EIO) : 0;
                free(pfns);
            }
        } else if (rq.op == H_PAUSE && rq.arg <= 1) {
            /* a host I/O error with the stop policy: the guest waits for cont (dm/vm.h) */
            int r = rq.arg ? xc_domain_pause(xch, domid) : xc_domain_unpause(xch, domid);
            rp.rc = r < 0 ? (errno ? -errno : -EIO) : 0;
        } else if (rq.op == H_POWER) {
            rp.rc = xc_domain_send_trigger(xch, domid, XEN_DOMCTL_SENDTRIGGER_POWER, 0) < 0
                        ? (errno ? -errno : -EIO) : 0;
        } else {
            rp.rc = -EINVAL;
        }
        if (write(fd, &rp, sizeof(rp)) != (ssize_t)sizeof(rp))
            break;
    }
    if (xch)
        xc_interface_close(xch);
}

static int helper_start(struct xen *x)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        prctl(PR_SET_NAME, "hvmd-xc");
        for (int fd = 3; fd < 1024; fd++) /* only what the helper needs */
            if (fd != sv[1])
                close(fd);
        helper_serve(sv[1], x->domid);
        _exit(0);
    }
    close(sv[1]);
    x->helper_fd = sv[0];
    x->helper_pid = pid;
    return 0;
}

static void helper_stop(struct xen *x)
{
    if (x->helper_fd < 0)
        return;
    close(x->helper_fd); /* the helper reads end of file and exits (no wait: the sandbox has
                            no wait4; hvmd is about to exit, and init reaps it) */
    x->helper_fd = -1;
}

static int helper_call(struct xen *x, uint32_t op, uint32_t arg, struct helper_rep *rp)
{
    struct helper_req rq = { op, arg, 0 };
    if (x->helper_fd < 0)
        return -ENOSYS;
    if (write(x->helper_fd, &rq, sizeof(rq)) != (ssize_t)sizeof(rq) ||
        read(x->helper_fd, rp, sizeof(*rp)) != (ssize_t)sizeof(*rp))
        return -EPIPE;
    return rp->rc;
}

/* ---- hv.h ---- */

static int err_of(int r)
{
    return r < 0 ? (errno ? -errno : -EIO) : r;
}

static int x_map_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct xen *x = be;
    int r;
    if (!x->have_server)
        return 0; /* -machine xenpv: nothing is routed to a device model (the empty PCI bus) */
    if (space == HV_PCI)
        r = xendevicemodel_map_pcidev_to_ioreq_server(x->dmod, (domid_t)x->domid, x->id,
                                                      (uint16_t)(start >> 16),
                                                      (uint8_t)(start >> 8), (uint8_t)((start >> 3) & 0x1f),
                                                      (uint8_t)(start & 7));
    else
        r = xendevicemodel_map_io_range_to_ioreq_server(x->dmod, (domid_t)x->domid, x->id,
                                                        space == HV_MMIO, start, end);
    return err_of(r);
}

static int x_unmap_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct xen *x = be;
    int r;
    if (x->dead || !x->have_server)
        return 0;
    if (space == HV_PCI)
        r = xendevicemodel_unmap_pcidev_from_ioreq_server(x->dmod, (domid_t)x->domid, x->id,
                                                          (uint16_t)(start >> 16),
                                                          (uint8_t)(start >> 8),
                                                          (uint8_t)((start >> 3) & 0x1f),
                                                          (uint8_t)(start & 7));
    else
        r = xendevicemodel_unmap_io_range_from_ioreq_server(x->dmod, (domid_t)x->domid, x->id,
                                                            space == HV_MMIO, start, end);
    return err_of(r);
}

static int x_set_isa_irq(void *be, unsigned irq, unsigned level)
{
    struct xen *x = be;
    if (x->dead)
        return 0;
    return err_of(xendevicemodel_set_isa_irq_level(x->dmod, (domid_t)x->domid, (uint8_t)irq, level));
}

static int x_set_pci_intx(void *be, unsigned slot, unsigned intx, unsigned level)
{
    struct xen *x = be;
    if (x->dead)
        return 0;
    return err_of(xendevicemodel_set_pci_intx_level(x->dmod, (domid_t)x->domid, 0, 0,
                                                    (uint8_t)slot, (uint8_t)intx, level));
}

static int x_set_pci_link(void *be, unsigned link, unsigned irq)
{
    struct xen *x = be;
    return err_of(xendevicemodel_set_pci_link_route(x->dmod, (domid_t)x->domid, (uint8_t)link,
                                                    (uint8_t)irq));
}

static int x_inject_msi(void *be, uint64_t addr, uint32_t data)
{
    struct xen *x = be;
    return err_of(xendevicemodel_inject_msi(x->dmod, (domid_t)x->domid, addr, data));
}

static int x_shutdown(void *be, enum hv_shutdown reason)
{
    struct xen *x = be;
    return err_of(xendevicemodel_shutdown(x->dmod, (domid_t)x->domid, (unsigned)reason));
}

static int x_map_gfn(void *be, uint64_t gfn, size_t n, void **addr, int *err)
{
    struct xen *x = be;
    xen_pfn_t *pfns = malloc(n * sizeof(*pfns));
    if (!pfns)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        pfns[i] = (xen_pfn_t)(gfn + i);
    void *va = xenforeignmemory_map(x->fmem, x->domid, PROT_READ | PROT_WRITE, n, pfns, err);
    int r = va ? 0 : (errno ? -errno : -EFAULT);
    free(pfns);
    if (va)
        *addr = va;
    return r;
}

static void x_unmap_gfn(void *be, void *addr, size_t n)
{
    struct xen *x = be;
    xenforeignmemory_unmap(x->fmem, addr, n);
}

static int x_vcpu_info(void *be, unsigned *max, uint8_t *online, size_t len)
{
    struct xen *x = be;
    struct helper_rep rp;
    *max = x->nr_vcpus;
    memset(online, 0, len);
    int r = helper_call(x, H_VCPUS, 0, &rp);
    if (r == 0)
        memcpy(online, rp.online, MIN(len, sizeof(rp.online)));
    return r;
}

static int x_set_s_state(void *be, unsigned state)
{
    struct helper_rep rp;
    return helper_call(be, H_S_STATE, state, &rp);
}

static int x_power_button(void *be)
{
    struct helper_rep rp;
    return helper_call(be, H_POWER, 0, &rp);
}

static int x_pause(void *be, int on)
{
    struct helper_rep rp;
    return helper_call(be, H_PAUSE, on ? 1 : 0, &rp);
}

static int x_hold(void *be, int on)
{
    struct xen *x = be;
    struct helper_rep rp;
    int r = helper_call(x, H_PAUSE, on ? 1 : 0, &rp);
    if (r < 0 || !on)
        return r;
    /* paused: each vCPU is off its CPU; one that waits for an answer (or has not taken it
     * yet) will re-execute its access against the guest's physical map when it runs */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < x->nr_vcpus; i++)
        if (((volatile ioreq_t *)&x->shared->vcpu_ioreq[i])->state != STATE_IOREQ_NONE) {
            helper_call(x, H_PAUSE, 0, &rp);
            return -EAGAIN;
        }
    return 0;
}

static int x_vram_alloc(void *be, uint64_t gfn, size_t n, void **addr)
{
    struct xen *x = be;
    struct helper_req rq = { H_POPULATE, (uint32_t)n, gfn };
    struct helper_rep rp;
    if (n == 0 || n > (256u << 20) / 4096)
        return -EINVAL;
    if (x->helper_fd < 0)
        return -ENOSYS;
    if (write(x->helper_fd, &rq, sizeof(rq)) != (ssize_t)sizeof(rq) ||
        read(x->helper_fd, &rp, sizeof(rp)) != (ssize_t)sizeof(rp))
        return -EPIPE;
    if (rp.rc < 0)
        return rp.rc;
    int *err = calloc(n, sizeof(*err));
    if (!err)
        return -ENOMEM;
    int r = x_map_gfn(be, gfn, n, addr, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (err[i]) {
            xenforeignmemory_unmap(x->fmem, *addr, n);
            r = err[i] < 0 ? err[i] : -err[i];
        }
    free(err);
    /* (pages populated and not mapped stay the domain's: they count against its allowance
     * as they would under qemu-xen, and go with the domain) */
    return r;
}

static void x_vram_free(void *be, void *addr, size_t n) { x_unmap_gfn(be, addr, n); }

static int x_vram_move(void *be, uint64_t from, uint64_t to, size_t n)
{
    struct xen *x = be;
    if (xendevicemodel_relocate_memory(x->dmod, (domid_t)x->domid, (uint32_t)n, from, to) < 0)
        return errno ? -errno : -EIO;
    /* write-back, as qemu-xen pins it: the guest's MTRRs make the PCI hole uncached */
    if (xendevicemodel_pin_memory_cacheattr(x->dmod, (domid_t)x->domid, to, to + n - 1,
                                            XEN_DOMCTL_MEM_CACHEATTR_WB) < 0)
        log_warn("video RAM at %#llx: pinning it write-back: %s", (unsigned long long)to << 12,
                 strerror(errno));
    return 0;
}

static int x_vram_dirty(void *be, uint64_t gfn, size_t n, uint8_t *bitmap)
{
    struct xen *x = be;
    size_t words = (n + 8 * sizeof(unsigned long) - 1) / (8 * sizeof(unsigned long));
    unsigned long *bm = calloc(words, sizeof(unsigned long));
    if (!bm)
        return -ENOMEM;
    int r = xendevicemodel_track_dirty_vram(x->dmod, (domid_t)x->domid, gfn, (uint32_t)n, bm);
    if (r < 0)
        r = errno ? -errno : -EIO;
    else
        memcpy(bitmap, bm, (n + 7) / 8); /* x86: little-endian words are bytes in order */
    free(bm);
    return r;
}

static int x_modified_memory(void *be, uint64_t gfn, size_t n)
{
    struct xen *x = be;
    if (xendevicemodel_modified_memory(x->dmod, (domid_t)x->domid, gfn, (uint32_t)n) < 0)
        return errno ? -errno : -EIO;
    return 0;
}

static const struct hv_ops xen_ops = HV_OPS_OF(x);

const struct hv *xen_hv(struct xen *x) { return &x->hv; }
unsigned xen_vcpus(const struct xen *x) { return x->nr_vcpus; }

/* ---- serving requests ---- */

/* Requests are served by a thread of hvmd's own that blocks in the event channel's read, not
 * by the loop: a round trip costs the read, the notify and the unmask (the floor's three
 * system calls, make bench's hvmd-floor), where the loop's epoll_wait before the read made
 * four. The thread takes the loop's lock for each event (loop.h), so devices see one thread
 * at a time as before; the loop's thread holds it except while it waits. One pending port
 * per read, unmasked after its answer: an event that came while the port was masked is still
 * pending and is delivered at the unmask. The buffered ring is drained before the slot: its
 * writes came first.
 * The unmask before the notify (the floor's order) measured worse when the loop served the
 * requests (session 10: 1.19 and 1.21 of the floor in and out against 1.14 and 1.13) and the
 * same on this thread (session 11, two bed runs each, README's issue 20 section), so it
 * stays after the notify. */
static void serve_port(struct xen *x, evtchn_port_t port)
{
    if (x->buffered && ioreq_serve_buffered(x->vm, x->buffered) < 0)
        log_err("the buffered ioreq ring is corrupt; requests in it are lost");
    if (x->buf_bound && port == x->buf_port)
        return;
    for (unsigned i = 0; i < x->nr_vcpus; i++) {
        if (x->local_port[i] != port)
            continue;
        if (ioreq_serve_slot(x->vm, &x->shared->vcpu_ioreq[i]) == 1 &&
            xenevtchn_notify(x->xce, port) < 0)
            log_err("notifying vCPU %u: %s", i, strerror(errno));
        return;
    }
}

static void *server_main(void *opaque)
{
    struct xen *x = opaque;
    static struct ratelimit read_rl, unmask_rl;
    int old;
    /* the read is the thread's only cancellation point (xen_stop): never inside a device */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    for (;;) {
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
        xenevtchn_port_or_error_t port = xenevtchn_pending(x->xce);
        int err = errno;
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
        if (port < 0) {
            if (err == EINTR || err == EAGAIN)
                continue;
            loop_lock(x->loop);
            log_limited(&read_rl, LOG_ERR, "reading the event channels: %s", strerror(err));
            loop_unlock(x->loop);
            struct timespec ts = { 0, 10 * 1000 * 1000 }; /* bounded: no spinning on an error */
            nanosleep(&ts, NULL);
            continue;
        }
        loop_lock(x->loop);
        serve_port(x, (evtchn_port_t)port);
        loop_unlock(x->loop);
        if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0) {
            err = errno;
            loop_lock(x->loop);
            log_limited(&unmask_rl, LOG_WARN, "unmasking event channel %d: %s", port, strerror(err));
            loop_unlock(x->loop);
        }
    }
    return NULL;
}

int xen_attach(struct xen *x, struct vm *vm, struct loop *loop)
{
    x->vm = vm;
    x->loop = loop;
    int fd = xenevtchn_fd(x->xce);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        return -errno;
    int r = pthread_create(&x->server, NULL, server_main, x);
    if (r)
        return -r;
    x->server_up = 1;
    return 0;
}

int xen_set_enabled(struct xen *x, int enabled)
{
    if (!x->have_server)
        return 0; /* -machine xenpv: nothing to enable */
    return err_of(xendevicemodel_set_ioreq_server_state(x->dmod, (domid_t)x->domid, x->id, enabled));
}

/* ---- setting up and tearing down ---- */

static int map_pages(struct xen *x, char *err, size_t errlen)
{
    void *addr = NULL;
    x->res = xenforeignmemory_map_resource(x->fmem, (domid_t)x->domid, XENMEM_resource_ioreq_server,
                                           x->id, XENMEM_resource_ioreq_server_frame_bufioreq, 2,
                                           &addr, PROT_READ | PROT_WRITE, 0);
    if (x->res) {
        x->pages = addr;
        x->buffered = addr;
        x->shared = (shared_iopage_t *)((char *)addr + PAGE);
        if (xendevicemodel_get_ioreq_server_info(x->dmod, (domid_t)x->domid, x->id, NULL, NULL,
                                                 &x->buf_port) < 0) {
            snprintf(err, errlen, "get_ioreq_server_info: %s", strerror(errno));
            return -errno;
        }
        return 0;
    }
    /* Xen or the kernel without the resource interface: the legacy frames */
    int saved = errno;
    xen_pfn_t ioreq_gfn, buf_gfn;
    if (xendevicemodel_get_ioreq_server_info(x->dmod, (domid_t)x->domid, x->id, &ioreq_gfn,
                                             &buf_gfn, &x->buf_port) < 0) {
        snprintf(err, errlen, "mapping the ioreq pages: map_resource: %s; get_ioreq_server_info: %s",
                 strerror(saved), strerror(errno));
        return -errno;
    }
    x->legacy_shared = xenforeignmemory_map(x->fmem, x->domid, PROT_READ | PROT_WRITE, 1,
                                            &ioreq_gfn, NULL);
    x->legacy_buf = xenforeignmemory_map(x->fmem, x->domid, PROT_READ | PROT_WRITE, 1, &buf_gfn, NULL);
    if (!x->legacy_shared || !x->legacy_buf) {
        snprintf(err, errlen, "mapping the legacy ioreq frames: %s", strerror(errno));
        return -EIO;
    }
    x->shared = x->legacy_shared;
    x->buffered = x->legacy_buf;
    log_info("ioreq pages mapped through the legacy frames (resource mapping: %s)", strerror(saved));
    return 0;
}

void xen_stop(struct xen *x)
{
    if (!x || x->dead)
        return;
    if (x->server_up) { /* the caller holds the loop's lock: the thread may wait for it */
        pthread_cancel(x->server);
        loop_unlock(x->loop);
        pthread_join(x->server, NULL);
        loop_lock(x->loop);
        x->server_up = 0;
    }
    x->loop = NULL;
    if (x->have_server) {
        if (xendevicemodel_destroy_ioreq_server(x->dmod, (domid_t)x->domid, x->id) < 0 &&
            errno != ESRCH)
            log_warn("destroying the ioreq server: %s", strerror(errno));
        x->have_server = 0;
    }
    x->dead = 1;
}

void xen_close(struct xen *x)
{
    if (!x)
        return;
    xen_stop(x);
    if (x->xce) {
        for (unsigned i = 0; x->local_port && i < x->nr_vcpus; i++)
            if (x->local_port[i])
                xenevtchn_unbind(x->xce, x->local_port[i]);
        if (x->buf_bound)
            xenevtchn_unbind(x->xce, x->buf_port);
        xenevtchn_close(x->xce);
    }
    if (x->res)
        xenforeignmemory_unmap_resource(x->fmem, x->res);
    if (x->legacy_shared)
        xenforeignmemory_unmap(x->fmem, x->legacy_shared, 1);
    if (x->legacy_buf)
        xenforeignmemory_unmap(x->fmem, x->legacy_buf, 1);
    if (x->fmem)
        xenforeignmemory_close(x->fmem);
    if (x->dmod)
        xendevicemodel_close(x->dmod);
    helper_stop(x);
    free(x->local_port);
    free(x);
}

static int probe_map(xenforeignmemory_handle *fm, uint32_t domid)
{
    xen_pfn_t gfn = 0;
    int e = 0;
    errno = 0;
    void *p = xenforeignmemory_map(fm, domid, PROT_READ, 1, &gfn, &e);
    if (!p)
        return errno ? -errno : -EIO;
    xenforeignmemory_unmap(fm, p, 1);
    return e;
}

static int probe_dmop(xendevicemodel_handle *dm, uint32_t domid)
{
    unsigned n = 0;
    errno = 0;
    return xendevicemodel_nr_vcpus(dm, (domid_t)domid, &n) < 0 ? (errno ? -errno : -EIO) : 0;
}

static const char *probe_res(int r)
{
    return r == 0 ? "allowed" : strerror(-r);
}

int xen_restrict(struct xen *x, char *err, size_t errlen)
{
    const char *pe = getenv("HVMD_RESTRICT_PROBE");
    long probe = pe && *pe ? strtol(pe, NULL, 10) : -1;
    if (probe >= 0 && probe < 0x7ff0) {
        xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
        xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
        if (fm && dm)
            log_info("restrict probe: before the restriction, a fresh handle: map of domain "
                     "%ld gfn 0: %s; dm_op on domain %ld: %s", probe,
                     probe_res(probe_map(fm, (uint32_t)probe)), probe,
                     probe_res(probe_dmop(dm, (uint32_t)probe)));
        if (fm)
            xenforeignmemory_close(fm);
        if (dm)
            xendevicemodel_close(dm);
    }
    if ((x->dmod && xendevicemodel_restrict(x->dmod, (domid_t)x->domid) < 0) ||
        (x->fmem && xenforeignmemory_restrict(x->fmem, (domid_t)x->domid) < 0) ||
        (x->xce && xenevtchn_restrict(x->xce, (domid_t)x->domid) < 0)) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "-xen-domid-restrict: restricting the Xen handles to domain %u: "
                 "%s", x->domid, strerror(e));
        return -e;
    }
    if (probe >= 0 && probe < 0x7ff0)
        log_info("restrict probe: after the restriction, hvmd's handles: map of domain %ld gfn "
                 "0: %s; dm_op on domain %ld: %s; dm_op on its own domain %u: %s", probe,
                 probe_res(probe_map(x->fmem, (uint32_t)probe)), probe,
                 probe_res(probe_dmop(x->dmod, (uint32_t)probe)), x->domid,
                 probe_res(probe_dmop(x->dmod, x->domid)));
    return 0;
}

struct xen *xen_open(uint32_t domid, char *err, size_t errlen)
{
    struct xen *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->domid = domid;
    x->hv.ops = &xen_ops;
    x->hv.be = x;
    x->helper_fd = -1;
    int hr = helper_start(x); /* first: it inherits nothing of Xen's */
    if (hr < 0)
        log_warn("no privileged helper (%s): query-cpus reports hvmd's own vCPU map, and S3 "
                 "and system_powerdown cannot reach Xen", strerror(-hr));
    x->dmod = xendevicemodel_open(NULL, 0);
    x->fmem = xenforeignmemory_open(NULL, 0);
    x->xce = xenevtchn_open(NULL, 0);
    if (!x->dmod || !x->fmem || !x->xce) {
        snprintf(err, errlen, "opening Xen's device model, foreign memory and event channel "
                 "interfaces: %s (is this dom0, with xen-privcmd and xen-evtchn loaded?)",
                 strerror(errno));
        goto fail;
    }
    if (xendevicemodel_nr_vcpus(x->dmod, (domid_t)domid, &x->nr_vcpus) < 0) {
        snprintf(err, errlen, "domain %u: %s", domid, strerror(errno));
        goto fail;
    }
    if (x->nr_vcpus == 0 || x->nr_vcpus > MAX_VCPUS) {
        snprintf(err, errlen, "domain %u has %u vCPUs (1-%zu supported)", domid, x->nr_vcpus,
                 (size_t)MAX_VCPUS);
        goto fail;
    }
    if (xendevicemodel_create_ioreq_server(x->dmod, (domid_t)domid, HVM_IOREQSRV_BUFIOREQ_ATOMIC,
                                           &x->id) < 0) {
        snprintf(err, errlen, "creating an ioreq server for domain %u: %s", domid, strerror(errno));
        goto fail;
    }
    x->have_server = 1;
    if (map_pages(x, err, errlen) < 0)
        goto fail;
    if (xen_set_enabled(x, 1) < 0) {
        snprintf(err, errlen, "enabling the ioreq server: %s", strerror(errno));
        goto fail;
    }
    x->local_port = calloc(x->nr_vcpus, sizeof(*x->local_port));
    if (!x->local_port) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < x->nr_vcpus; i++) {
        xenevtchn_port_or_error_t p =
            xenevtchn_bind_interdomain(x->xce, domid, x->shared->vcpu_ioreq[i].vp_eport);
        if (p < 0) {
            snprintf(err, errlen, "binding vCPU %u's event channel %u: %s", i,
                     x->shared->vcpu_ioreq[i].vp_eport, strerror(errno));
            goto fail;
        }
        x->local_port[i] = (evtchn_port_t)p;
    }
    xenevtchn_port_or_error_t bp = xenevtchn_bind_interdomain(x->xce, domid, x->buf_port);
    if (bp < 0) {
        snprintf(err, errlen, "binding the buffered ioreq event channel %u: %s", x->buf_port,
                 strerror(errno));
        goto fail;
    }
    x->buf_port = (evtchn_port_t)bp;
    x->buf_bound = 1;
    log_info("ioreq server %u for domain %u: %u vCPU(s)", x->id, domid, x->nr_vcpus);
    return x;
fail:
    xen_close(x);
    return NULL;
}

struct xen *xen_open_pv(uint32_t domid, char *err, size_t errlen)
{
    struct xen *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->domid = domid;
    x->hv.ops = &xen_ops;
    x->hv.be = x;
    x->helper_fd = -1;
    x->dmod = xendevicemodel_open(NULL, 0);
    x->fmem = xenforeignmemory_open(NULL, 0);
    if (!x->dmod || !x->fmem) {
        snprintf(err, errlen, "opening Xen's device model and foreign memory interfaces: %s (is "
                 "this dom0, with xen-privcmd loaded?)", strerror(errno));
        xen_close(x);
        return NULL;
    }
    x->nr_vcpus = 1; /* (DM ops do not apply to a PV domain; nothing asks for more) */
    log_info("domain %u: -machine xenpv: PV backends only, no ioreq server", domid);
    return x;
}
