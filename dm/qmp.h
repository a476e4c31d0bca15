/* SPDX-License-Identifier: GPL-2.0-only */
/* QMP, the QEMU Machine Protocol, on the sockets libxl names with
 *   -chardev socket,id=ID,path=PATH,server=on,wait=off -mon chardev=ID,mode=control
 * Serves what libxl 4.17 sends (dm/QMP.md lists every command, hvmd's answer and its test):
 * the greeting, qmp_capabilities, query-status, stop, cont, query-chardev (a pty's path, which
 * libxl writes to xenstore for `xl console`), query-vnc, query-version, query-commands, quit;
 * add-fd, remove-fd and query-fdsets; query-block, eject and blockdev-change-medium once a
 * block device registered (xl cd-eject / cd-insert); query-cpus-fast, query-cpus,
 * query-hotpluggable-cpus and device_add of a CPU (xl list -l, save, vcpu-set); system_wakeup
 * (xl trigger s3resume), system_powerdown, system_reset; human-monitor-command (xl
 * qemu-monitor-command); query-pci; input-send-event (dm/input.h's sources). Devices hvmd lacks (PCI pass-through, USB) are refused as
 * QEMU refuses an unknown driver; other commands get CommandNotFound naming them. One JSON
 * object per command; each connection negotiates capabilities first, as in QEMU. */
#ifndef HVMD_QMP_H
#define HVMD_QMP_H

#include <stddef.h>
#include <sys/types.h>
#include "dm/block.h"
#include "dm/util.h"

struct config;
struct vm;
struct qmp;
struct qmp_conn;

struct qmp_ops {
    void (*stop)(void *opaque); /* "stop": pause emulation */
    void (*cont)(void *opaque); /* "cont": resume */
    void (*quit)(void *opaque); /* "quit": exit after answering */
    /* xen-save-devices-state: write the device state to FD (closed by the caller); LIVE as
     * libxl says it (migration). 0, or a negative errno with ERR set. */
    int (*save)(void *opaque, int fd, int live, char *err, size_t errlen);
    /* xen-load-devices-state: load the device state from FD into the stopped machine. */
    int (*load)(void *opaque, int fd, char *err, size_t errlen);
    /* xen-set-global-dirty-log: while ON, mark every guest page hvmd writes as modified. */
    void (*dirty_log)(void *opaque, int on);
};

/* Claim every -mon / -chardev pair of CFG that is a control monitor on a UNIX socket server,
 * and listen on its path (replacing a stale socket file). Unusable monitor options are
 * refused with ERR set. NULL on failure, nothing left behind. */
struct qmp *qmp_new(struct vm *vm, struct config *cfg, const struct qmp_ops *ops, void *opaque,
                    char *err, size_t errlen);
/* Close every connection and listening socket and remove the socket files. */
void qmp_free(struct qmp *q);

/* ---- block devices: query-block, eject, blockdev-change-medium, DEVICE_TRAY_MOVED ----
 * A device with drives registers its struct qmp_block_ops; QMP checks the commands' arguments,
 * opens the files (also "/dev/fdset/N" of add-fd), routes each command to the device that lists
 * the drive it names, and writes the JSON. A device finds the server at vm->qmp (NULL: no QMP,
 * e.g. in tests). */
struct qmp_block_info {             /* one drive, as query-block lists it */
    const char *device;             /* its QMP name (libxl: "ide-5632") */
    int removable, locked, tray_open;
    const char *file;               /* the medium inserted, or NULL */
    int readonly;
};
struct qmp_block_ops {
    /* The drives, at most MAX of them into ROWS; how many. */
    unsigned (*query)(void *opaque, struct qmp_block_info *rows, unsigned max);
    /* Open the tray of DEVICE and drop its medium (unless the guest locked it and not FORCE).
     * 0, or a negative errno with ERR set. */
    int (*eject)(void *opaque, const char *device, int force, char *err, size_t errlen);
    /* Put the raw image FILE, open read-only at FD (taken over, also on failure), into
     * DEVICE and close the tray. 0, or a negative errno with ERR set. */
    int (*change_medium)(void *opaque, const char *device, const char *file, int fd, char *err,
                         size_t errlen);
};
/* 0, -EEXIST (OPAQUE registered already), -ENOSPC. */
int qmp_block_register(struct qmp *q, const struct qmp_block_ops *ops, void *opaque) WUR;
void qmp_block_unregister(struct qmp *q, void *opaque);
/* The event DEVICE_TRAY_MOVED to every client (Q may be NULL: nothing). */
void qmp_tray_moved(struct qmp *q, const char *device, int open);
/* The event BLOCK_IO_ERROR, as QEMU sends it: DEVICE's request of OP (enum blk_op: "read",
 * or "write" for writes and flushes) failed with ERR (a negative errno; "nospace" if ENOSPC)
 * and the policy took ACTION. Those with action report or ignore are rate-limited; with stop,
 * STOP follows if the guest is not stopped yet (the caller then calls vm_io_stop). Q NULL:
 * nothing. */
void qmp_block_io_error(struct qmp *q, const char *device, int op, enum blk_action action,
                        int err);
/* Open PATH for a device, as QEMU does: "/dev/fdset/N" is a duplicate of a descriptor that
 * add-fd put in set N with the access mode FLAGS asks for; anything else is opened, unless
 * the process is in the seccomp sandbox (which allows no open): then -EPERM, ERR saying so.
 * A descriptor (close-on-exec), or a negative errno with ERR set. */
int qmp_open(struct qmp *q, const char *path, int flags, char *err, size_t errlen);

/* ---- the machine: vCPU hot-plug, reset, S3 ----
 * The device with the guest's ACPI CPU map registers struct qmp_cpu_ops (query-cpus-fast,
 * query-hotpluggable-cpus, device_add of a CPU); the machine registers its reset (for
 * system_wakeup); the device that sees the guest enter S3 calls qmp_suspended. QMP checks the
 * arguments against the domain's vCPUs (hv vcpu_info) and talks to the hypervisor itself
 * (HVM_PARAM_ACPI_S_STATE 0 at wake-up, the power button, reboot). */
#define QMP_MAX_CPUS 128            /* what Xen's DSDT reads of the CPU map (HVM_MAX_VCPUS) */
struct qmp_cpu_ops {
    /* Is vCPU CPU present (in the guest's ACPI CPU map)? */
    int (*present)(void *opaque, unsigned cpu);
    /* Make vCPU CPU (< QMP_MAX_CPUS, not present) present and tell the guest (ACPI CPU
     * hot-plug GPE). 0, or a negative errno with ERR set. */
    int (*plug)(void *opaque, unsigned cpu, char *err, size_t errlen);
};
int qmp_cpu_register(struct qmp *q, const struct qmp_cpu_ops *ops, void *opaque) WUR;
void qmp_cpu_unregister(struct qmp *q, void *opaque);
/* RESET(OPAQUE) puts every device back as after power-on (system_wakeup); NULL: none. */
void qmp_set_reset(struct qmp *q, void (*reset)(void *opaque), void *opaque);
/* The guest went to sleep in S3 (suspend to RAM): run state "suspended", event SUSPEND,
 * until system_wakeup. Q may be NULL (nothing). */
void qmp_suspended(struct qmp *q);

/* ---- the VNC server: query-vnc, change-vnc-password (V NULL: none) ---- */
struct vnc;
void qmp_vnc_register(struct qmp *q, struct vnc *v);

/* A connection without a socket (tests, fuzzing): OUT receives what would be sent. */
typedef void qmp_out_fn(void *opaque, const char *data, size_t n);
struct qmp_conn *qmp_conn_new(struct qmp *q, qmp_out_fn *out, void *out_opaque);
/* Feed received bytes. Returns 0, or -1 if the connection must be closed (input too large
 * or too deeply nested). */
int qmp_conn_input(struct qmp_conn *c, const char *data, size_t n);
void qmp_conn_free(struct qmp_conn *c);
/* As if FD came with the next message through SCM_RIGHTS (tests). The connection owns it. */
void qmp_conn_pass_fd(struct qmp_conn *c, int fd);

#endif
