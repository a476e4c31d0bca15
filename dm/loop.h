/* SPDX-License-Identifier: GPL-2.0-only */
/* One epoll loop per process: file descriptors (event channels, QMP sockets, ptys, tap, aio
 * eventfd) and one-shot timers (each a timerfd, so an idle guest costs no wake-up at all).
 * Callbacks run on the loop's thread; a callback may add or remove any fd or timer, itself too.
 *
 * The loop has a lock, the device model's one lock: the thread that creates the loop holds it
 * from loop_new on, and releases it only while it waits inside loop_run_once. Another thread
 * (the ioreq server's, xen.c) takes it with loop_lock around whatever it does to devices or to
 * the loop; every function here may then be called from it, and a watch or timer it adds,
 * changes or arms is waited on at once (epoll and timerfds are safe across threads). */
#ifndef HVMD_LOOP_H
#define HVMD_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>
#include "dm/util.h"

struct loop;
struct loop_timer;

/* EVENTS: the epoll bits that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). */
typedef void loop_fd_fn(void *opaque, uint32_t events);
typedef void loop_timer_fn(void *opaque);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Watch FD for EVENTS (EPOLLIN / EPOLLOUT). One watch per fd. */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn *fn, void *opaque) WUR;
int loop_mod_fd(struct loop *loop, int fd, uint32_t events) WUR;
/* Stop watching FD (it is not closed). No callback for it runs after this returns. */
void loop_del_fd(struct loop *loop, int fd);

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn *fn, void *opaque);
/* Fire once, NS nanoseconds from now (0: disarm). */
void loop_timer_arm(struct loop_timer *t, uint64_t ns);
void loop_timer_free(struct loop_timer *t);

/* For threads other than the loop's: hold / release the loop's lock. */
void loop_lock(struct loop *loop);
void loop_unlock(struct loop *loop);

/* Wait up to TIMEOUT_MS (-1: forever), the lock released meanwhile, and run the callbacks
 * that are due. Returns the number of callbacks run, or a negative errno. */
int loop_run_once(struct loop *loop, int timeout_ms);
/* Run until loop_quit(); returns the code given to it. */
int loop_run(struct loop *loop);
/* From the loop's thread (a callback of its own): takes effect when the batch ends. */
void loop_quit(struct loop *loop, int code);
int loop_quitting(const struct loop *loop);
/* Timer expirations served so far (each one a wake-up of hvmd's own, not the guest's or a
 * peer's): QMP x-hvmd-io-stats' timer-wakeups. */
uint64_t loop_timer_wakeups(const struct loop *loop);

#endif
