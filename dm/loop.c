/* SPDX-License-Identifier: GPL-2.0-only */
/* The epoll loop. Watches live in a list; a removed watch is marked dead and freed only after
 * the current batch of events, so an event for it that is still in the batch is skipped
 * instead of calling freed memory. The loop's lock is released only inside epoll_wait: a
 * watch removed by another thread then (it holds the lock) is freed after the batch that
 * wait returns, since that batch may name it. */
#include "dm/loop.h"
#include "dm/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct watch {
    int fd;
    int dead;
    loop_fd_fn *fn;
    void *opaque;
    struct watch *next;
};

struct loop_timer {
    struct loop *loop;
    int fd;
    loop_timer_fn *fn;
    void *opaque;
};

struct loop {
    pthread_mutex_t lock;
    int epfd;
    struct watch *watches;
    int in_dispatch; /* waiting (lock released) or running a batch's callbacks */
    int reap_due; /* a watch was removed during the current batch */
    uint64_t timer_wakeups; /* timer callbacks run: hvmd's own wake-ups */
    int quit;
    int code;
};

struct loop *loop_new(void)
{
    struct loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    pthread_mutex_init(&loop->lock, NULL);
    pthread_mutex_lock(&loop->lock); /* the creating thread is the loop's */
    return loop;
}

static void reap(struct loop *loop)
{
    struct watch **pp = &loop->watches;
    while (*pp) {
        struct watch *w = *pp;
        if (w->dead) {
            *pp = w->next;
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    for (struct watch *w = loop->watches; w; w = w->next)
        w->dead = 1;
    reap(loop);
    close(loop->epfd);
    pthread_mutex_unlock(&loop->lock);
    pthread_mutex_destroy(&loop->lock);
    free(loop);
}

static struct watch *find(struct loop *loop, int fd)
{
    for (struct watch *w = loop->watches; w; w = w->next)
        if (w->fd == fd && !w->dead)
            return w;
    return NULL;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn *fn, void *opaque)
{
    if (fd < 0 || !fn)
        return -EINVAL;
    if (find(loop, fd))
        return -EEXIST;
    struct watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fd = fd;
    w->fn = fn;
    w->opaque = opaque;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = -errno;
        free(w);
        return err;
    }
    w->next = loop->watches;
    loop->watches = w;
    return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
    struct watch *w = find(loop, fd);
    if (!w)
        return -ENOENT;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    return 0;
}

void loop_del_fd(struct loop *loop, int fd)
{
    struct watch *w = find(loop, fd);
    if (!w)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    w->dead = 1;
    if (loop->in_dispatch)
        loop->reap_due = 1;
    else
        reap(loop);
}

static void timer_fire(void *opaque, uint32_t events)
{
    struct loop_timer *t = opaque;
    uint64_t n;
    (void)events;
    if (read(t->fd, &n, sizeof(n)) != sizeof(n))
        return; /* spurious wake-up or disarmed meanwhile */
    t->loop->timer_wakeups++;
    t->fn(t->opaque);
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_fn *fn, void *opaque)
{
    struct loop_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->loop = loop;
    t->fn = fn;
    t->opaque = opaque;
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        goto fail;
    if (loop_add_fd(loop, t->fd, EPOLLIN, timer_fire, t) < 0)
        goto fail_fd;
    return t;
fail_fd:
    close(t->fd);
fail:
    free(t);
    return NULL;
}

void loop_timer_arm(struct loop_timer *t, uint64_t ns)
{
    struct itimerspec its = { 0 };
    its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(ns % 1000000000ull);
    if (timerfd_settime(t->fd, 0, &its, NULL) < 0)
        log_err("timerfd_settime: %d", errno);
}

void loop_timer_free(struct loop_timer *t)
{
    if (!t)
        return;
    loop_del_fd(t->loop, t->fd);
    close(t->fd);
    free(t);
}

void loop_lock(struct loop *loop) { pthread_mutex_lock(&loop->lock); }
void loop_unlock(struct loop *loop) { pthread_mutex_unlock(&loop->lock); }

int loop_run_once(struct loop *loop, int timeout_ms)
{
    struct epoll_event evs[32];
    loop->in_dispatch = 1; /* from here a removed watch waits for reap() */
    pthread_mutex_unlock(&loop->lock);
    int n = epoll_wait(loop->epfd, evs, (int)ARRAY_SIZE(evs), timeout_ms);
    int err = errno;
    pthread_mutex_lock(&loop->lock);
    if (n < 0)
        n = err == EINTR ? 0 : -err;
    for (int i = 0; i < n; i++) {
        struct watch *w = evs[i].data.ptr;
        if (w->dead)
            continue;
        w->fn(w->opaque, evs[i].events);
    }
    loop->in_dispatch = 0;
    if (loop->reap_due) { /* nothing else per batch: the guest may be running already */
        loop->reap_due = 0;
        reap(loop);
    }
    return n;
}

int loop_run(struct loop *loop)
{
    while (!loop->quit) {
        int r = loop_run_once(loop, -1);
        if (r < 0) {
            log_err("epoll_wait: %d", r);
            return 1;
        }
    }
    return loop->code;
}

void loop_quit(struct loop *loop, int code)
{
    loop->quit = 1;
    loop->code = code;
}

int loop_quitting(const struct loop *loop) { return loop->quit; }

uint64_t loop_timer_wakeups(const struct loop *loop) { return loop->timer_wakeups; }
