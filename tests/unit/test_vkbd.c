/* SPDX-License-Identifier: GPL-2.0-only */
/* pvdrivers/xenbus.c and vkbd.c through the fake PV host: the toolstack's nodes as libxl 4.17
 * writes them, a frontend playing xen-kbdfront's part (grant a page, bind an event channel,
 * Initialised, read events from the ring), then what a hostile or restarting frontend does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/io/kbdif.h>
#include "dm/device.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/sandbox.h"
#include "pvdrivers/xenbus.h"
#include "tests/lib/fakepv.h"
#include "tests/lib/fakexen.h"

extern const struct device pv_vkbd;
struct xenbus *vkbd_bus(void *state);

#define BE "/local/domain/0/backend/vkbd/1/0"
#define FE "/local/domain/1/device/vkbd/0"

struct bed {
    struct fakexen *fx;
    struct fakepv *fp;
    void *dev;
    int ref, port;
};

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    b->fx = fx_new(16 << 20);
    b->fp = fx_pv_new(1);
    b->fx->vm.pv = &b->fp->pv;
    assert_int_equal(pv_vkbd.create(&b->fx->vm, &b->dev), 0);
    assert_non_null(b->dev);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    pv_vkbd.destroy(b->dev);
    /* nothing left mapped or bound */
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_free(b->fp);
    fx_free(b->fx);
    free(b);
    return 0;
}

static int be_state(struct bed *b)
{
    const char *s = fx_pv_read(b->fp, BE "/state");
    return s ? atoi(s) : -1;
}

/* libxl__device_add for the default vkb */
static void toolstack_add(struct bed *b)
{
    fx_pv_add_device(b->fp, BE, FE, NULL, NULL);
    fx_pv_run(b->fp, 0);
}

/* xen-kbdfront's probe: a zeroed page granted writable, an event channel, Initialised */
static void fe_connect(struct bed *b, int abs)
{
    memset(fx_pv_page(b->fp, 0), 0, PVHOST_PAGE);
    b->ref = fx_pv_grant(b->fp, 0, 1);
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_writef(b->fp, FE "/page-gref", "%d", b->ref);
    fx_pv_write(b->fp, FE "/page-ref", "12345");
    fx_pv_writef(b->fp, FE "/event-channel", "%d", b->port);
    if (abs)
        fx_pv_write(b->fp, FE "/request-abs-pointer", "1");
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
}

static struct xenkbd_page *kpage(struct bed *b)
{
    return (struct xenkbd_page *)fx_pv_page(b->fp, 0);
}

static union xenkbd_in_event *in_ev(struct bed *b, uint32_t i)
{
    return (union xenkbd_in_event *)(fx_pv_page(b->fp, 0) + XENKBD_IN_RING_OFFS +
                                     (i % XENKBD_IN_RING_LEN) * XENKBD_IN_EVENT_SIZE);
}

static void test_offers_and_connects(void **state)
{
    struct bed *b = *state;
    /* device-model/D/backends/vkbd, as qemu-xen writes it */
    assert_non_null(fx_pv_read(b->fp, "/local/domain/0/device-model/1/backends/vkbd"));
    toolstack_add(b);
    assert_int_equal(be_state(b), XB_INITWAIT);
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-abs-pointer"), "1");
    assert_non_null(fx_pv_read(b->fp, BE "/width"));
    assert_non_null(fx_pv_read(b->fp, BE "/height"));
    fe_connect(b, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->maps_live, 1);
    assert_int_equal(b->fp->binds_live, 1);
    /* the frontend goes Connected on our InitWait / Connected: nothing changes */
    fx_pv_write(b->fp, FE "/state", "4");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(xenbus_dev(vkbd_bus(b->dev), 0)->connects, 1);
}

static void test_keys_and_pointer_reach_the_ring(void **state)
{
    struct bed *b = *state;
    struct vm *vm = &b->fx->vm;
    toolstack_add(b);
    /* not connected: the PV keyboard is not the input target */
    input_key(vm, KEY_A, 1);
    input_key(vm, KEY_A, 0);
    fe_connect(b, 1);
    assert_int_equal(kpage(b)->in_prod, 0);
    input_key(vm, KEY_A, 1);
    assert_int_equal(kpage(b)->in_prod, 1);
    assert_int_equal(in_ev(b, 0)->type, XENKBD_TYPE_KEY);
    assert_int_equal(in_ev(b, 0)->key.keycode, KEY_A);
    assert_int_equal(in_ev(b, 0)->key.pressed, 1);
    assert_int_equal(fx_pv_notified(b->fp, b->port), 1);
    input_key(vm, KEY_A, 0);
    assert_int_equal(in_ev(b, 1)->key.pressed, 0);
    /* absolute: scaled to the width / height offered, wheel as -rel_z, buttons as keys */
    input_abs(vm, INPUT_ABS_MAX, INPUT_ABS_MAX / 2, 1, INPUT_BTN_LEFT);
    assert_int_equal(kpage(b)->in_prod, 4);
    assert_int_equal(in_ev(b, 2)->type, XENKBD_TYPE_POS);
    assert_int_equal(in_ev(b, 2)->pos.abs_x, INPUT_ABS_MAX);
    assert_int_equal(in_ev(b, 2)->pos.abs_y, INPUT_ABS_MAX / 2);
    assert_int_equal(in_ev(b, 2)->pos.rel_z, -1);
    assert_int_equal(in_ev(b, 3)->type, XENKBD_TYPE_KEY);
    assert_int_equal(in_ev(b, 3)->key.keycode, BTN_LEFT);
    assert_int_equal(in_ev(b, 3)->key.pressed, 1);
    input_abs(vm, 0, 0, 0, 0);
    assert_int_equal(in_ev(b, 5)->key.keycode, BTN_LEFT);
    assert_int_equal(in_ev(b, 5)->key.pressed, 0);
}

static void test_relative_for_a_frontend_without_abs(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    fe_connect(b, 0);
    input_abs(&b->fx->vm, 100, 100, 0, 0);
    input_abs(&b->fx->vm, 110, 90, 0, 0);
    assert_int_equal(kpage(b)->in_prod, 2);
    assert_int_equal(in_ev(b, 1)->type, XENKBD_TYPE_MOTION);
    assert_int_equal(in_ev(b, 1)->motion.rel_x, 10);
    assert_int_equal(in_ev(b, 1)->motion.rel_y, -10);
}

static void test_full_ring_and_hostile_cons(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    fe_connect(b, 1);
    for (int i = 0; i < 100; i++)
        input_key(&b->fx->vm, KEY_B, i & 1);
    assert_int_equal(kpage(b)->in_prod, XENKBD_IN_RING_LEN); /* full: the rest dropped */
    kpage(b)->in_cons = 7777;                                /* ahead of the producer */
    input_key(&b->fx->vm, KEY_C, 1);
    assert_int_equal(kpage(b)->in_prod, XENKBD_IN_RING_LEN);
    kpage(b)->in_prod = 3;                                   /* the frontend scribbles */
    kpage(b)->in_cons = XENKBD_IN_RING_LEN;                  /* and then reads all */
    input_key(&b->fx->vm, KEY_C, 1);
    assert_int_equal(kpage(b)->in_prod, XENKBD_IN_RING_LEN + 1); /* our index, not its */
    assert_int_equal(in_ev(b, XENKBD_IN_RING_LEN)->key.keycode, KEY_C);
    assert_int_equal(be_state(b), XB_CONNECTED);
}

/* module reload / kexec's xenbus reset: Closing, Closed, Initialising, connect again */
static void test_frontend_restarts(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    fe_connect(b, 1);
    fx_pv_write(b->fp, FE "/state", "5");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_write(b->fp, FE "/state", "6");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSED);
    fx_pv_revoke(b->fp, b->ref);
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_INITWAIT);
    fe_connect(b, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(xenbus_dev(vkbd_bus(b->dev), 0)->connects, 2);
    input_key(&b->fx->vm, KEY_D, 1);
    assert_int_equal(in_ev(b, 0)->key.keycode, KEY_D);
    /* straight from Connected to Initialising (a frontend that lost its state) */
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_INITWAIT);
    assert_int_equal(b->fp->maps_live, 0);
}

static void expect_closed_by(struct bed *b, const char *node, const char *val)
{
    toolstack_add(b);
    memset(fx_pv_page(b->fp, 0), 0, PVHOST_PAGE);
    b->ref = fx_pv_grant(b->fp, 0, 1);
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_writef(b->fp, FE "/page-gref", "%d", b->ref);
    fx_pv_writef(b->fp, FE "/event-channel", "%d", b->port);
    fx_pv_write(b->fp, node, val);
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    input_key(&b->fx->vm, KEY_E, 1); /* not a target now: nothing happens */
}

static void test_bad_event_channel(void **state)
{
    expect_closed_by(*state, FE "/event-channel", "12abc");
}

static void test_huge_event_channel(void **state)
{
    expect_closed_by(*state, FE "/event-channel", "99999999999999999999999");
}

static void test_unbound_port(void **state)
{
    expect_closed_by(*state, FE "/event-channel", "31"); /* never allocated by the frontend */
}

static void test_ungranted_ref(void **state)
{
    expect_closed_by(*state, FE "/page-gref", "77");
}

static void test_readonly_grant(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    int ref = fx_pv_grant(b->fp, 1, 0);
    char v[16];
    snprintf(v, sizeof(v), "%d", ref);
    expect_closed_by(b, FE "/page-gref", v);
}

static void test_bad_page_ref_without_gref(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_writef(b->fp, FE "/event-channel", "%d", b->port);
    fx_pv_write(b->fp, FE "/page-ref", "4294967296000"); /* far beyond guest RAM */
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->binds_live, 0);
}

static void test_bad_state_values(void **state)
{
    struct bed *b = *state;
    static const char *const bad[] = { "", "x", "-1", "4x", " 4", "9", "18446744073709551617" };
    toolstack_add(b);
    fe_connect(b, 1);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fx_pv_write(b->fp, FE "/state", bad[i]);
        fx_pv_run(b->fp, 0);
        assert_true(be_state(b) == XB_CLOSING || be_state(b) == XB_CONNECTED);
        assert_int_equal(b->fp->maps_live + b->fp->binds_live,
                         be_state(b) == XB_CONNECTED ? 2 : 0);
    }
    /* a valid restart still works after all that */
    fx_pv_write(b->fp, FE "/state", "6");
    fx_pv_run(b->fp, 0);
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    fx_pv_revoke(b->fp, b->ref);
    fe_connect(b, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
}

/* xl block-detach style removal: online 0 and state Closing from the toolstack, then the
 * directories go */
static void test_toolstack_removal(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    fe_connect(b, 1);
    fx_pv_write(b->fp, BE "/online", "0");
    fx_pv_write(b->fp, BE "/state", "5");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    fx_pv_write(b->fp, FE "/state", "6");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSED);
    fx_pv_write(b->fp, BE, NULL);
    fx_pv_write(b->fp, FE, NULL);
    fx_pv_run(b->fp, 0);
    assert_int_equal(xenbus_count(vkbd_bus(b->dev)), 0);
    input_key(&b->fx->vm, KEY_F, 1); /* no target left behind */
}

/* libxl's destroy of a dead domain: the backend and frontend directories removed while the
 * device is still connected; hvmd must not write its Closed state back into the removed
 * directory (it recreated backend/vkbd/D/0/state, which xl then reported as left behind) */
static void test_removed_while_connected(void **state)
{
    struct bed *b = *state;
    toolstack_add(b);
    fe_connect(b, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    fx_pv_write(b->fp, BE, NULL);
    fx_pv_run(b->fp, 0);
    assert_null(fx_pv_read(b->fp, BE "/state"));
    assert_null(fx_pv_read(b->fp, BE));
    fx_pv_write(b->fp, FE, NULL);
    fx_pv_run(b->fp, 0);
    assert_null(fx_pv_read(b->fp, BE "/state"));
    assert_int_equal(xenbus_count(vkbd_bus(b->dev)), 0);
    assert_int_equal(b->fp->maps_live, 0);
}

/* a device under our domain's directory whose frontend is another domain's */
static void test_foreign_frontend_refused(void **state)
{
    struct bed *b = *state;
    fx_pv_write(b->fp, BE "/frontend", "/local/domain/7/device/vkbd/0");
    fx_pv_write(b->fp, BE "/frontend-id", "7");
    fx_pv_write(b->fp, BE "/online", "1");
    fx_pv_write(b->fp, BE "/state", "1");
    fx_pv_write(b->fp, "/local/domain/0/backend/vkbd/1/junk/frontend", FE);
    fx_pv_run(b->fp, 0);
    assert_int_equal(xenbus_count(vkbd_bus(b->dev)), 0);
}

/* the backend's whole life after the seccomp filter: what it does itself is allowed (the
 * real host's calls, event channel and gntdev ioctls, are in the list test_sandbox checks) */
static void test_under_the_sandbox(void **state)
{
    struct bed *b = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(10);
        toolstack_add(b);
        fe_connect(b, 1);
        input_key(&b->fx->vm, KEY_A, 1);
        input_abs(&b->fx->vm, 5, 5, 0, INPUT_BTN_RIGHT);
        fx_pv_write(b->fp, FE "/state", "6");
        fx_pv_run(b->fp, 0);
        fx_pv_write(b->fp, FE "/state", "1");
        fx_pv_run(b->fp, 0);
        fx_pv_write(b->fp, BE, NULL);
        fx_pv_run(b->fp, 0);
        _exit(be_state(b) == -1 && kpage(b)->in_prod == 3 ? 0 : 12);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_no_pv_host_no_device(void **state)
{
    struct fakexen *fx = fx_new(16 << 20);
    void *dev = (void *)1;
    assert_int_equal(pv_vkbd.create(&fx->vm, &dev), 0);
    assert_null(dev);
    fx_free(fx);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_offers_and_connects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_pointer_reach_the_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_for_a_frontend_without_abs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_and_hostile_cons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_event_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_event_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unbound_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ungranted_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_grant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_page_ref_without_gref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_state_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_toolstack_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_while_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_frontend_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_under_the_sandbox, setup, teardown),
        cmocka_unit_test(test_no_pv_host_no_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
