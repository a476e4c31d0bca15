/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's device state to and from a file descriptor: what QMP xen-save-devices-state
 * writes (libxl's /var/lib/xen/qemu-save.D, passed with add-fd) and what -incoming fd:N
 * (libxl's qemu-resume.D) loads before the guest runs. The stream is dm/snapshot.h's. */
#ifndef HVMD_SAVESTATE_H
#define HVMD_SAVESTATE_H

#include <stddef.h>
#include <stdint.h>
#include "dm/machine.h"
#include "dm/util.h"

/* The largest stream a load reads (video RAM of 256 MiB, when hvmd keeps it, and the rest). */
#define SAVESTATE_MAX ((size_t)300 << 20)

struct savestate_stats {
    size_t bytes;        /* the stream's size */
    double ms;           /* the time machine_save / machine_load took, I/O included */
};

/* Write the state of M to FD from its start (truncating it first if it is a regular file),
 * complete before returning. In-flight guest I/O completes first (each device's save hook
 * drains it; a PV backend then takes nothing more from its rings until QMP cont, vm_on_cont:
 * pvdrivers/qdisk.c). 0, or a negative errno with ERR set (the file then holds no valid stream: it is
 * truncated to nothing where it can be). ST (may be NULL) gets the figures. */
int savestate_write(struct machine *m, int fd, struct savestate_stats *st, char *err,
                    size_t errlen) WUR;
/* Read FD to its end (at most SAVESTATE_MAX bytes) and load it into M, all or nothing. 0, or
 * -EINVAL (a refused stream: ERR names the device and field), or another negative errno
 * (reading failed), with ERR set. */
int savestate_read(struct machine *m, int fd, struct savestate_stats *st, char *err,
                   size_t errlen) WUR;

#endif
