/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/loop: fd callbacks, removal from inside a callback, one-shot timers, quit, and another
 * thread (the ioreq server's) working under the loop's lock while the loop waits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "dm/log.h"
#include "dm/loop.h"

struct ctx {
    struct loop *loop;
    int fds[2], other[2];
    int hits, other_hits, timer_hits;
};

static void on_read(void *opaque, uint32_t events)
{
    struct ctx *c = opaque;
    char b;
    c->hits++;
    assert_true(events & EPOLLIN);
    assert_int_equal(read(c->fds[0], &b, 1), 1);
}

static void on_read_and_drop_other(void *opaque, uint32_t events)
{
    struct ctx *c = opaque;
    char b;
    c->hits++;
    assert_int_equal(read(c->fds[0], &b, 1), 1);
    loop_del_fd(c->loop, c->other[0]); /* its event may be in the same batch */
    loop_del_fd(c->loop, c->fds[0]);   /* and itself */
}

static void on_other(void *opaque, uint32_t events)
{
    struct ctx *c = opaque;
    c->other_hits++;
}

static void on_timer(void *opaque)
{
    struct ctx *c = opaque;
    c->timer_hits++;
    loop_quit(c->loop, 42);
}

static void test_fd_callbacks(void **state)
{
    struct ctx c = { 0 };
    c.loop = loop_new();
    assert_int_equal(pipe(c.fds), 0);
    assert_int_equal(loop_add_fd(c.loop, c.fds[0], EPOLLIN, on_read, &c), 0);
    assert_int_equal(loop_add_fd(c.loop, c.fds[0], EPOLLIN, on_read, &c), -EEXIST);
    assert_int_equal(loop_run_once(c.loop, 0), 0);
    assert_int_equal(write(c.fds[1], "x", 1), 1);
    assert_int_equal(loop_run_once(c.loop, 1000), 1);
    assert_int_equal(c.hits, 1);
    assert_int_equal(loop_mod_fd(c.loop, c.fds[0], 0), 0);
    assert_int_equal(write(c.fds[1], "x", 1), 1);
    assert_int_equal(loop_run_once(c.loop, 0), 0);
    loop_del_fd(c.loop, c.fds[0]);
    assert_int_equal(loop_mod_fd(c.loop, c.fds[0], EPOLLIN), -ENOENT);
    close(c.fds[0]);
    close(c.fds[1]);
    loop_free(c.loop);
}

static void test_delete_inside_batch(void **state)
{
    struct ctx c = { 0 };
    c.loop = loop_new();
    assert_int_equal(pipe(c.fds), 0);
    assert_int_equal(pipe(c.other), 0);
    /* other first in the list, so the first fd's callback runs before or after it:
     * either way other must not run after it was removed */
    assert_int_equal(loop_add_fd(c.loop, c.fds[0], EPOLLIN, on_read_and_drop_other, &c), 0);
    assert_int_equal(loop_add_fd(c.loop, c.other[0], EPOLLIN, on_other, &c), 0);
    assert_int_equal(write(c.fds[1], "x", 1), 1);
    assert_int_equal(write(c.other[1], "x", 1), 1);
    loop_run_once(c.loop, 1000);
    assert_int_equal(c.hits, 1);
    assert_true(c.other_hits <= 1);
    int before = c.other_hits;
    loop_run_once(c.loop, 0);
    assert_int_equal(c.other_hits, before);
    for (int i = 0; i < 2; i++) {
        close(c.fds[i]);
        close(c.other[i]);
    }
    loop_free(c.loop);
}

static void test_timer_and_quit(void **state)
{
    struct ctx c = { 0 };
    c.loop = loop_new();
    struct loop_timer *t = loop_timer_new(c.loop, on_timer, &c);
    assert_non_null(t);
    loop_timer_arm(t, 1000000); /* 1 ms */
    assert_int_equal(loop_timer_wakeups(c.loop), 0);
    assert_int_equal(loop_run(c.loop), 42);
    assert_int_equal(c.timer_hits, 1);
    assert_int_equal(loop_timer_wakeups(c.loop), 1); /* x-hvmd-io-stats' timer-wakeups */
    assert_true(loop_quitting(c.loop));
    /* disarmed timers do not fire */
    loop_timer_arm(t, 1000000);
    loop_timer_arm(t, 0);
    assert_int_equal(loop_run_once(c.loop, 20), 0);
    assert_int_equal(c.timer_hits, 1);
    assert_int_equal(loop_timer_wakeups(c.loop), 1); /* a disarmed timer is no wake-up */
    loop_timer_free(t);
    loop_free(c.loop);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

struct other_thread {
    struct ctx *c;
    struct loop_timer *t;
    int ok;
};

/* While the loop waits (its lock released): make the watched fd ready, let the loop's
 * epoll_wait return with it, and remove the watch before the loop gets the lock back. The
 * loop must skip it and free it only after that batch (ASan sees a use after free
 * otherwise). Then arm a timer: the waiting loop must wake for it. */
static void *other_main(void *opaque)
{
    struct other_thread *o = opaque;
    struct ctx *c = o->c;
    sleep_ms(20);
    loop_lock(c->loop); /* the loop is in epoll_wait: the lock is free */
    o->ok = write(c->fds[1], "x", 1) == 1;
    sleep_ms(50); /* the loop's epoll_wait returns now and waits for the lock */
    loop_del_fd(c->loop, c->fds[0]);
    loop_unlock(c->loop);
    sleep_ms(20);
    loop_lock(c->loop);
    loop_timer_arm(o->t, 1000000);
    loop_unlock(c->loop);
    return NULL;
}

static void test_other_thread(void **state)
{
    struct ctx c = { 0 };
    c.loop = loop_new();
    assert_int_equal(pipe(c.fds), 0);
    assert_int_equal(loop_add_fd(c.loop, c.fds[0], EPOLLIN, on_read, &c), 0);
    struct other_thread o = { &c, loop_timer_new(c.loop, on_timer, &c), 0 };
    assert_non_null(o.t);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other_main, &o), 0);
    assert_int_equal(loop_run_once(c.loop, 5000), 1); /* the fd's event, its watch dead */
    assert_int_equal(c.hits, 0);
    assert_int_equal(loop_run(c.loop), 42); /* the timer armed by the other thread */
    assert_int_equal(c.timer_hits, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(o.ok);
    assert_int_equal(loop_mod_fd(c.loop, c.fds[0], EPOLLIN), -ENOENT);
    loop_timer_free(o.t);
    close(c.fds[0]);
    close(c.fds[1]);
    loop_free(c.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_callbacks),
        cmocka_unit_test(test_delete_inside_batch),
        cmocka_unit_test(test_timer_and_quit),
        cmocka_unit_test(test_other_thread),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
