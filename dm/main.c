/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd: a device model for Xen HVM guests, started by libxl in qemu-xen's place
 * (device_model_override = "/usr/lib/hvmd/hvmd", device_model_version = "qemu-xen").
 * Order of start-up: parse the command line (refusing what hvmd cannot do), create and map
 * the ioreq server, listen on the QMP sockets, create the devices (which route their ranges to
 * us), serve requests, and only then tell libxl "running" through xenstore. SIGHUP (libxl's
 * way to end a device model), SIGTERM and SIGINT end it promptly; so does QMP quit. */
#include "dm/config.h"
#include "dm/input.h"
#include "dm/sandbox.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/pvhost.h"
#include "dm/qmp.h"
#include "dm/restrict.h"
#include "dm/savestate.h"
#include "dm/vnc.h"
#include "dm/vm.h"
#include "dm/xen.h"
#include "dm/xs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#ifndef HVMD_VERSION /* the Makefile passes debian/changelog's */
#define HVMD_VERSION "0.1"
#endif

static const char usage[] =
"Usage: hvmd -xen-domid D -m MiB [OPTION]...\n"
"A device model for Xen HVM guests, started by libxl (xl) in place of qemu-xen with one\n"
"line of the guest's xl.cfg (libxl's default device_model_version, qemu-xen, stays):\n"
"  device_model_override = \"/usr/lib/hvmd/hvmd\"\n"
"libvirt's libxl driver: <emulator>/usr/lib/hvmd/hvmd</emulator> in the domain XML.\n"
"hvmctl starts it by default for HVM guests (device_model in /etc/hvmd/hvmctl.conf).\n"
"It takes the command line libxl 4.17 builds for qemu-xen and refuses, naming it, any option\n"
"it cannot serve.\n"
"\n"
"Options (as libxl passes them):\n"
"  -xen-domid D             the HVM domain to serve (required)\n"
"  -m MiB                   guest RAM in MiB, without video RAM (required)\n"
"  -name NAME               the guest's name (for logs)\n"
"  -smp N[,maxcpus=M]       vCPUs online / in total\n"
"  -machine xenfv|pc|xenpv[,max-ram-below-4g=B]   (xenpv: a PV or PVH guest, PV backends only)\n"
"                           xenfv: with the Xen platform PCI device; pc: without\n"
"  -serial pty|file:PATH[,max-size=N[K|M|G]]|stdio|null|none|/dev/TTY\n"
"                           a 16550 UART per option: COM1 0x3f8 IRQ 4, COM2 0x2f8 IRQ 3, ...;\n"
"                           a file stops at max-size (default 64M, 0: no limit)\n"
"  -kernel F -initrd F -append CMDLINE\n"
"                           direct Linux boot (bzImage) through fw_cfg DMA\n"
"  -boot order=[acdn]       boot order for SeaBIOS (a bootorder file in fw_cfg)\n"
"  -drive file=F,if=ide,index=0-3,media=disk|cdrom[,format=raw,cache=M,readonly=on]\n"
"  -drive if=none,id=ID,file=F,readonly=on -device ide-cd|ide-hd,drive=ID,bus=ide.B,unit=U\n"
"                           IDE disks and CD-ROMs (raw images) on the PIIX3 IDE function\n"
"  -netdev type=tap,id=NET,ifname=TAP,script=no,downscript=no\n"
"  -device rtl8139,id=ID,netdev=NET,mac=MAC\n"
"                           an RTL8139C+ NIC (00:04.0 on) on the dom0 tap TAP hvmd creates;\n"
"                           its iPXE ROM pxe-rtl8139.rom for -boot order=n\n"
"  -device e1000,id=ID,netdev=NET,mac=MAC\n"
"                           an Intel 82540EM NIC, the same way (pxe-e1000.rom)\n"
"  -chardev socket,id=ID,path=P,server=on,wait=off -mon chardev=ID,mode=control\n"
"                           a QMP socket\n"
"  -vnc ADDR:DISPLAY[,password=on][,to=N] | none\n"
"                           a VNC console on port 5900+DISPLAY (to=: the first free up to N);\n"
"                           password=on: logins wait for QMP change-vnc-password\n"
"  -k en-us|de              the viewer's keyboard layout (libxl: keymap=)\n"
"  -vncunused               as to=99\n"
"  -no-shutdown -nodefaults -no-user-config -display none -net none -acpi\n"
"                           accepted; hvmd behaves so anyway\n"
"  -device VGA[,vgamem_mb=N]  the standard VGA (Bochs VBE, 1-256 MiB, default 16) at 00:02.0;\n"
"  -device cirrus-vga, -vga std|cirrus  the same standard VGA (hvmd does not emulate Cirrus)\n"
"  -nographic               tell the firmware there is no display\n"
"  -no-acpi                 no PIIX4 power management function\n"
"  -S                       start with emulation stopped until QMP cont\n"
"  -chardev socket,id=ID,fd=N,server=on,wait=off   a QMP socket libxl made (dm_restrict)\n"
"  -xen-domid-restrict      dm_restrict: Xen handles reach this domain only; xenstore through\n"
"                           a broker process limited to its backend and device-model nodes\n"
"  -chroot DIR              dm_restrict: chroot into DIR once everything is open\n"
"  -runas USER|UID:GID      dm_restrict: then become that user (not root; no other groups)\n"
"  -incoming fd:N|file:PATH  load the device state xen-save-devices-state wrote (xl restore,\n"
"                           migrate) before the guest runs; a stream refused ends hvmd\n"
"hvmd's own:\n"
"  -L DIR                   where option ROMs are (default /usr/share/qemu)\n"
"  --log-level error|warning|info|debug\n"
"  -sandbox on|off|log      once set up, hvmd runs with no new privileges and a seccomp\n"
"                           allow-list of system calls; anything else kills it (default on;\n"
"                           log: only log what the list lacks; also HVMD_SANDBOX=...;\n"
"                           under xl: device_model_args_hvm = [ \"-sandbox\", \"off\" ])\n"
"  -io-error POLICY | werror=POLICY,rerror=POLICY   what a host I/O error on a disk does\n"
"                           (report, ignore, stop: pause the guest until QMP cont / xl\n"
"                           unpause retries it, enospc: stop on ENOSPC/EDQUOT only);\n"
"                           default report; -drive werror=/rerror= override it\n"
"  --help (-help, -h), --version (-version)\n"
"\n"
"USB: -usb (usb=1) is a PIIX3 UHCI at 00:01.2; -usbdevice tablet / -device usb-tablet a tablet.\n"
"Not yet: image formats but raw, USB controllers but UHCI (usbversion=2/3, usbctrl=), USB\n"
"devices but tablets, sound.\n"
"\n"
"Devices: i440FX host bridge 00:00.0, PIIX3 ISA bridge 00:01.0, PIIX3 IDE 00:01.1, PIIX4\n"
"power management 00:01.3, standard VGA 00:02.0, Xen platform device 00:03.0, RTL8139C+ and\n"
"e1000 NICs 00:04.0 on, 16550 UARTs, i8042, fw_cfg (with DMA), debug port 0x402.\n"
"PV backends: vkbd, consoles 1..N (channel=, pty), qdisk (raw).\n"
"Logs go to stderr (libxl: /var/log/xen/qemu-dm-NAME.log). See hvmd(1).\n";

struct app {
    struct config cfg;
    struct loop *loop;
    struct xen *xen;
    struct vm vm;
    int vm_up;
    struct machine m;
    int m_up;
    struct qmp *qmp;
    struct vnc *vnc;
    struct xs_dm *xs;
    struct pvhost pv;     /* PV backends' xenstore, event channels, grants (over xs) */
    int cleaner_fd;       /* the sandbox's cleaner removes the QMP sockets when this closes */
    int state_written;
    struct timespec t0;
};

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void write_running(struct app *a)
{
    if (a->state_written)
        return;
    if (xs_dm_state(a->xs, "running") == 0) {
        a->state_written = 1;
        log_info("running, %.1f ms after start", ms_since(&a->t0));
    }
}

/* In the sandbox hvmd cannot unlink: the QMP sockets it listens on (the -chardev socket
 * paths QMP claimed) are removed by the sandbox's cleaner once hvmd is gone. */
static int sockets_removed_at_exit(struct app *a, char *err, size_t errlen)
{
    const char *paths[SANDBOX_MAX_PATHS];
    unsigned n = 0;
    for (unsigned i = 0; n < SANDBOX_MAX_PATHS; i++) {
        struct cfg_opt *cd = cfg_nth(&a->cfg, "-chardev", i);
        if (!cd)
            break;
        const char *path = cfg_get(cd, "path");
        if (cd->claimed && !strcmp(cd->first, "socket") && path)
            paths[n++] = path;
    }
    a->cleaner_fd = sandbox_remove_at_exit(paths, n, err, errlen);
    return a->cleaner_fd < 0 ? a->cleaner_fd : 0;
}

static int start_vnc(struct app *a, char *err, size_t errlen)
{
    char spec[300];
    const char *s = a->cfg.vnc;
    if (s && a->cfg.vnc_unused && strcmp(s, "none") && !strstr(s, ",to=")) {
        snprintf(spec, sizeof(spec), "%s,to=99", s);
        s = spec;
    }
    int r = vnc_new(&a->vm, s, a->cfg.keymap, &a->vnc, err, errlen);
    if (r == 0 && a->vnc)
        qmp_vnc_register(a->qmp, a->vnc);
    return r;
}

static void qmp_stop(void *opaque)
{
    struct app *a = opaque;
    if (xen_set_enabled(a->xen, 0) < 0)
        log_warn("QMP stop: disabling the ioreq server failed");
}

static void qmp_cont(void *opaque)
{
    struct app *a = opaque;
    if (xen_set_enabled(a->xen, 1) < 0)
        log_warn("QMP cont: enabling the ioreq server failed");
    write_running(a);
}

static void qmp_quit(void *opaque)
{
    struct app *a = opaque;
    log_info("QMP quit");
    loop_quit(a->loop, 0);
}

/* xen-save-devices-state: libxl has sent stop (the guest is suspended); each device's save
 * completes the guest I/O it has in flight first, so the stream holds none. */
static int qmp_save(void *opaque, int fd, int live, char *err, size_t errlen)
{
    struct app *a = opaque;
    struct savestate_stats st;
    int r = savestate_write(&a->m, fd, &st, err, errlen);
    if (r < 0) {
        log_err("QMP xen-save-devices-state: %s", err);
        return r;
    }
    log_info("device state saved%s: %zu bytes in %.1f ms", live ? " (live migration)" : "",
             st.bytes, st.ms);
    return 0;
}

static int qmp_load(void *opaque, int fd, char *err, size_t errlen)
{
    struct app *a = opaque;
    struct savestate_stats st;
    int r = savestate_read(&a->m, fd, &st, err, errlen);
    if (r < 0) {
        log_err("QMP xen-load-devices-state: %s", err);
        return r;
    }
    log_info("device state loaded: %zu bytes in %.1f ms", st.bytes, st.ms);
    return 0;
}

static void qmp_dirty_log(void *opaque, int on)
{
    struct app *a = opaque;
    if (on != mem_dirty_log(a->vm.mem))
        log_info("migration dirty log %s (%llu pages reported modified so far)",
                 on ? "on" : "off", (unsigned long long)mem_stats(a->vm.mem)->modified);
    mem_set_dirty_log(a->vm.mem, on);
}

static const struct qmp_ops app_qmp_ops = { .stop = qmp_stop, .cont = qmp_cont, .quit = qmp_quit,
                                            .save = qmp_save, .load = qmp_load,
                                            .dirty_log = qmp_dirty_log };

/* -incoming: load the state libxl saved (fd:N, inherited; or file:PATH) before the guest
 * runs. A stream refused is the end of this device model: libxl then destroys the domain. */
static int load_incoming(struct app *a, char *err, size_t errlen)
{
    const struct config *c = &a->cfg;
    int fd = c->incoming_fd;
    if (c->incoming_path) {
        fd = open(c->incoming_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "-incoming %s: %s", c->incoming, strerror(errno));
            return -1;
        }
    }
    struct savestate_stats st;
    char why[400];
    int r = savestate_read(&a->m, fd, &st, why, sizeof(why));
    close(fd);
    if (r < 0) {
        snprintf(err, errlen, "-incoming %s: %s", c->incoming, why);
        return r;
    }
    log_info("-incoming %s: device state loaded: %zu bytes in %.1f ms", c->incoming, st.bytes,
             st.ms);
    return 0;
}

struct sigwatch {
    struct app *a;
    int fd;
};

static void on_signal(void *opaque, uint32_t events)
{
    struct sigwatch *w = opaque;
    struct signalfd_siginfo si;
    if (read(w->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    log_info("signal %u: exiting", si.ssi_signo);
    loop_quit(w->a->loop, 0);
}

static void log_region(void *opaque, const struct io_region *r)
{
    if (r->reads || r->writes)
        log_info("  %-20s %s %#llx+%#llx: %llu reads, %llu writes, %llu round trips", r->name,
                 r->space == HV_PIO ? "port" : "mmio", (unsigned long long)r->base,
                 (unsigned long long)r->len, (unsigned long long)r->reads,
                 (unsigned long long)r->writes, (unsigned long long)r->trips);
}

static void log_pci(void *opaque, struct pci_dev *d)
{
    if (d->cfg_reads || d->cfg_writes)
        log_info("  %-20s pci %02x.%x: %llu config reads, %llu config writes", d->name,
                 PCI_SLOT(d->devfn), PCI_FN(d->devfn), (unsigned long long)d->cfg_reads,
                 (unsigned long long)d->cfg_writes);
}

static void log_stats(struct app *a)
{
    const struct ioreq_stats *s = &a->vm.ioreq;
    log_info("requests served: %llu pio, %llu mmio, %llu pci-config, %llu invalidate, "
             "%llu timeoffset (%llu buffered), %llu rep items, %llu refused",
             (unsigned long long)s->pio, (unsigned long long)s->mmio,
             (unsigned long long)s->pci_config, (unsigned long long)s->invalidate,
             (unsigned long long)s->timeoffset, (unsigned long long)s->buffered,
             (unsigned long long)s->rep_items, (unsigned long long)s->bad);
    bus_for_each(a->vm.bus, log_region, NULL);
    pci_for_each(a->vm.pci, log_pci, NULL);
    const struct mem_stats *m = mem_stats(a->vm.mem);
    log_info("guest memory: %llu buckets mapped (%llu again for a page not mapped before), "
             "%llu evicted, %llu invalidations, %llu refused; %llu interrupt hypercalls",
             (unsigned long long)m->maps, (unsigned long long)m->remaps,
             (unsigned long long)m->evictions,
             (unsigned long long)m->invalidations, (unsigned long long)m->faults,
             (unsigned long long)a->vm.irq.calls);
}

int main(int argc, char **argv)
{
    struct app a;
    char err[512];
    int rc = 1, sfd = -1, r;

    memset(&a, 0, sizeof(a));
    a.cleaner_fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &a.t0);
    for (int i = 1; i < argc; i++) {
        /* -help: libvirt's libxl driver runs `EMULATOR -help` (libxlDomainGetEmulatorType) and
         * takes qemu-xen unless the text has qemu-traditional's "Options specific to the Xen
         * version:"; an exit status other than 0 is an error in libvirtd's log */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || !strcmp(argv[i], "-help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-version")) {
            printf("hvmd %s\n", HVMD_VERSION);
            return 0;
        }
    }
    if (config_parse(&a.cfg, argc - 1, (const char *const *)argv + 1, err, sizeof(err)) < 0) {
        fprintf(stderr, "hvmd: %s\n", err);
        fprintf(stderr, "hvmd: see hvmd --help\n");
        return 1;
    }
    if (a.cfg.log_level >= 0)
        log_set_level((enum log_level)a.cfg.log_level);
    log_info("hvmd %s for domain %u (%s), %llu MiB", HVMD_VERSION, a.cfg.domid,
             a.cfg.name ? a.cfg.name : "unnamed", (unsigned long long)a.cfg.mem_mb);

    /* signals arrive through the loop */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* dm_restrict's RLIMIT_FSIZE: a save gets EFBIG, not killed */
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    struct sigwatch sw = { &a, sfd };
    a.loop = loop_new();
    if (sfd < 0 || !a.loop || loop_add_fd(a.loop, sfd, EPOLLIN, on_signal, &sw) < 0) {
        log_err("setting up the event loop: %s", strerror(errno));
        goto out;
    }

    if (a.cfg.restrict_.runas) { /* the helpers forked from now on drop too */
        xen_set_helper_drop(&a.cfg.restrict_);
        sandbox_helpers_restrict(&a.cfg.restrict_);
    }
    a.xen = cfg_xenpv(&a.cfg) ? xen_open_pv(a.cfg.domid, err, sizeof(err))
                              : xen_open(a.cfg.domid, err, sizeof(err));
    if (!a.xen) {
        log_err("%s", err);
        goto out;
    }
    /* now: the sandbox allows no connect; under dm_restrict through the broker (xsbroker.h) */
    a.xs = restrict_wanted(&a.cfg.restrict_)
               ? xs_dm_open_brokered(a.cfg.domid, &a.cfg.restrict_, err, sizeof(err))
               : xs_dm_open(a.cfg.domid, err, sizeof(err));
    if (!a.xs) {
        log_err("%s", err);
        goto out;
    }
    uint64_t lowmem, highmem;
    cfg_ram_layout(&a.cfg, &lowmem, &highmem);
    if (vm_init(&a.vm, xen_hv(a.xen), a.loop, &a.cfg, a.cfg.domid, lowmem, highmem) < 0) {
        log_err("out of memory");
        goto out;
    }
    a.vm_up = 1;
    /* PV backends: without them the guest's PV frontends wait for a backend, no more */
    if (xs_dm_pv_open(a.xs, a.loop, &a.pv, err, sizeof(err)) == 0)
        a.vm.pv = &a.pv;
    else
        log_warn("%s: no PV backends", err);
    a.qmp = qmp_new(&a.vm, &a.cfg, &app_qmp_ops, &a, err, sizeof(err));
    if (!a.qmp) {
        log_err("%s", err);
        goto out;
    }
    a.vm.qmp = a.qmp;
    if (machine_create(&a.m, &a.vm, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    a.m_up = 1;
    if (a.cfg.incoming && load_incoming(&a, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    if (start_vnc(&a, err, sizeof(err)) < 0) { /* listens now: the sandbox allows no bind */
        log_err("%s", err);
        goto out;
    }
    if (a.cfg.sandbox != SANDBOX_OFF && sockets_removed_at_exit(&a, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    if (a.cfg.sandbox != SANDBOX_OFF && a.vm.display &&
        sandbox_opener_start(err, sizeof(err)) < 0) { /* screendump's files */
        log_err("%s", err);
        goto out;
    }
    /* dm_restrict: everything is open; restrict the handles, chroot, drop the user */
    if (a.cfg.restrict_.domid_restrict &&
        (xen_restrict(a.xen, err, sizeof(err)) < 0 ||
         (a.vm.pv && xs_dm_restrict(a.xs, err, sizeof(err)) < 0))) {
        log_err("%s", err);
        goto out;
    }
    if (a.cfg.sandbox != SANDBOX_OFF)
        sandbox_preload(); /* before the chroot hides the files it reads */
    if (restrict_enter(&a.cfg.restrict_, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    if (sandbox_enter((enum sandbox_mode)a.cfg.sandbox, err, sizeof(err)) < 0) {
        log_err("%s", err);
        goto out;
    }
    /* last, in the sandbox: the thread that serves requests starts with the credentials,
     * root and filter the process has now (capabilities are a thread's own) */
    if (!cfg_xenpv(&a.cfg) && (r = xen_attach(a.xen, &a.vm, a.loop)) < 0) {
        log_err("starting the thread that serves the guest's requests: %s", strerror(-r));
        goto out;
    }
    if (a.cfg.start_stopped) {
        a.vm.running = 0;
        if (xen_set_enabled(a.xen, 0) < 0)
            log_warn("-S: disabling the ioreq server failed");
    } else {
        write_running(&a);
        if (!a.state_written)
            goto out;
    }
    rc = loop_run(a.loop);
    log_info("stopping");
out:
    if (a.vm_up)
        log_stats(&a);
    xen_stop(a.xen);
    vnc_free(a.vnc);
    qmp_free(a.qmp);
    a.vm.qmp = NULL;
    if (a.m_up)
        machine_destroy(&a.m);
    if (a.vm_up)
        input_fini(&a.vm);
    if (a.vm_up)
        vm_fini(&a.vm);
    xen_close(a.xen);
    xs_dm_close(a.xs);
    loop_free(a.loop);
    if (sfd >= 0)
        close(sfd);
    config_free(&a.cfg);
    return rc;
}
