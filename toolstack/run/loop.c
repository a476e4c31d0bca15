/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * loop.c: the poll loop of `hvmctl run`. It reads the console fds (ptys, pipes in the
 * tests) as bytes come, reads followed files (the device model's log) every tick, asks the hook
 * every tick (and when its watch fires) for what has no fd, and stops on a signal. It needs no
 * Xen: the Xen side is all in the hook (guest.c).
 *
 * The domain's end is not the verdict at once: the consoles lag behind Xen (xenconsoled copies
 * the ring to the pty after the guest wrote it), so the loop keeps reading for settle_s and only
 * then tells the engine; a "Kernel panic" that reaches the console meanwhile is the better
 * reason. After a failure seen in a line, it keeps recording for grace_s (the rest of the trace).
 */
#include "toolstack/run/run.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUN_MAX_POLL 16

double run_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* read what fd has now (bounded, so that one chatty console cannot starve the rest) */
static void read_fd(struct run_engine *e, struct run_fd *f, double t)
{
    char buf[8192];
    int rounds;

    for (rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(f->fd, buf, sizeof(buf));

        if (n > 0) {
            run_engine_feed(e, f->src, buf, (size_t)n, t);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (f->follow && n == 0)
            return;     /* a followed file: no more for now */
        /* EOF, or EIO: the other side of the pty closed (the domain or its console went) */
        run_engine_flush(e, f->src, t);
        f->eof = true;
        return;
    }
}

static void read_all(struct run_engine *e, struct run_fd *fds, int nfds, double t)
{
    int i;

    for (i = 0; i < nfds; i++)
        if (fds[i].fd >= 0 && !fds[i].eof)
            read_fd(e, &fds[i], t);
}

static int ms_until(double dt)
{
    if (dt <= 0)
        return 0;
    if (dt > 1.0)
        return 1000;
    return (int)(dt * 1000.0) + 1;
}

void run_loop(struct run_engine *e, struct run_fd *fds, int nfds, const struct run_hooks *h,
              int stop_fd, double t0)
{
    struct run_dom_state st;
    double next_tick = 0, settle_until = -1, grace_until = -1;
    bool ended = false;

    memset(&st, 0, sizeof(st));
    for (;;) {
        struct pollfd pfd[RUN_MAX_POLL + 2];
        int map[RUN_MAX_POLL + 2], np = 0, i, watch_at = -1, stop_at = -1;
        double t = run_now() - t0, wait;
        bool tick_now = false;

        if (run_engine_done(e)) {
            if (grace_until < 0)
                grace_until = t + (e->fail_has_line ? h->grace_s : 0);
            if (t >= grace_until)
                break;
        }
        wait = next_tick - t;
        {
            double d = run_engine_tick(e, t);
            if (d < wait)
                wait = d;
        }
        if (ended && !run_engine_done(e) && settle_until - t < wait)
            wait = settle_until - t;
        if (grace_until >= 0 && grace_until - t < wait)
            wait = grace_until - t;
        for (i = 0; i < nfds && np < RUN_MAX_POLL; i++) {
            if (fds[i].fd < 0 || fds[i].eof || fds[i].follow)
                continue;
            pfd[np].fd = fds[i].fd;
            pfd[np].events = POLLIN;
            map[np++] = i;
        }
        if (h->watch_fd >= 0) {
            pfd[np].fd = h->watch_fd;
            pfd[np].events = POLLIN;
            watch_at = np++;
        }
        if (stop_fd >= 0) {
            pfd[np].fd = stop_fd;
            pfd[np].events = POLLIN;
            stop_at = np++;
        }
        if (poll(pfd, (nfds_t)np, ms_until(wait)) < 0 && errno != EINTR)
            break;
        t = run_now() - t0;
        for (i = 0; i < np; i++) {
            if (i == watch_at || i == stop_at || !pfd[i].revents)
                continue;
            read_fd(e, &fds[map[i]], t);
        }
        if (stop_at >= 0 && (pfd[stop_at].revents & POLLIN)) {
            int sig = 0;

            if (read(stop_fd, &sig, sizeof(sig)) == (ssize_t)sizeof(sig) && sig > 0)
                run_engine_decide(e, RUN_ERROR, "interrupted", t, "interrupted by %s at %.1f s",
                                  strsignal(sig), t);
            else
                run_engine_decide(e, RUN_ERROR, "interrupted", t, "interrupted at %.1f s", t);
        }
        if (watch_at >= 0 && (pfd[watch_at].revents & POLLIN)) {
            if (h->watch)
                h->watch(h->opaque);
            tick_now = true;
        }
        if (t >= next_tick || tick_now) {
            for (i = 0; i < nfds; i++)
                if (fds[i].follow && fds[i].fd >= 0 && !fds[i].eof)
                    read_fd(e, &fds[i], t);
            if (h->poll && !ended) {
                h->poll(h->opaque, e, t, &st);
                if (st.ended) {
                    ended = true;
                    settle_until = t + h->settle_s;
                }
            } else if (h->poll) {
                struct run_dom_state again;

                /* keep the non-fd sources flowing while the consoles settle */
                memset(&again, 0, sizeof(again));
                h->poll(h->opaque, e, t, &again);
            }
            next_tick = t + (h->tick_s > 0 ? h->tick_s : 0.2);
        }
        if (ended && !run_engine_done(e) && t >= settle_until) {
            read_all(e, fds, nfds, t);
            run_engine_flush_all(e, t);
            run_engine_event(e, st.ev, st.detail[0] ? st.detail : NULL, t);
        }
        run_engine_tick(e, run_now() - t0);
    }
    /* what is already there belongs in the artifacts */
    {
        double t = run_now() - t0;

        read_all(e, fds, nfds, t);
        run_engine_flush_all(e, t);
    }
}
