/* SPDX-License-Identifier: GPL-2.0-only */
/* pvdrivers/console.c through the fake PV host: a channel as libxl 4.17 makes it (console 1,
 * frontend type ioemu, output pty), its pty named in the frontend's tty node, bytes both ways
 * through the xencons ring, console 0 and xenconsoled's consoles left alone, hostile indexes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/io/console.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "pvdrivers/xenbus.h"
#include "tests/lib/fakepv.h"
#include "tests/lib/fakexen.h"

extern const struct device pv_console;
struct xenbus *pvcon_bus(void *state);

#define BE "/local/domain/0/backend/console/1/1"
#define FE "/local/domain/1/device/console/1"

struct bed {
    struct fakexen *fx;
    struct fakepv *fp;
    void *dev;
    int ref, port;
};

static void toolstack_console(struct fakepv *fp, unsigned n, const char *type)
{
    char be[96], fe[96];
    const char *const fe_extra[] = { "type", type, "output", "pty", "name", "org.hvmd.test",
                                     "tty", "", NULL };
    const char *const be_extra[] = { "protocol", "vt100", NULL };
    snprintf(be, sizeof(be), "/local/domain/0/backend/console/1/%u", n);
    snprintf(fe, sizeof(fe), "/local/domain/1/device/console/%u", n);
    fx_pv_add_device(fp, be, fe, fe_extra, be_extra);
}

/* libxl writes the consoles before the device model starts: so does this */
static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    b->fx = fx_new(16 << 20);
    b->fp = fx_pv_new(1);
    b->fx->vm.pv = &b->fp->pv;
    toolstack_console(b->fp, 0, "xenconsoled");
    toolstack_console(b->fp, 1, "ioemu");
    assert_int_equal(pv_console.create(&b->fx->vm, &b->dev), 0);
    assert_non_null(b->dev);
    fx_pv_run(b->fp, 0);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    pv_console.destroy(b->dev);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_free(b->fp);
    fx_free(b->fx);
    free(b);
    return 0;
}

static int be_state(struct bed *b, const char *be)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/state", be);
    const char *s = fx_pv_read(b->fp, p);
    return s ? atoi(s) : -1;
}

static struct xencons_interface *ring(struct bed *b)
{
    return (struct xencons_interface *)fx_pv_page(b->fp, 0);
}

static void fe_connect(struct bed *b)
{
    memset(fx_pv_page(b->fp, 0), 0, PVHOST_PAGE);
    b->ref = fx_pv_grant(b->fp, 0, 1);
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_writef(b->fp, FE "/ring-ref", "%d", b->ref);
    fx_pv_writef(b->fp, FE "/port", "%d", b->port);
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
}

static int open_tty(struct bed *b)
{
    const char *tty = fx_pv_read(b->fp, FE "/tty");
    assert_non_null(tty);
    assert_true(!strncmp(tty, "/dev/pts/", 9));
    int fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK);
    assert_true(fd >= 0);
    struct termios t;
    assert_int_equal(tcgetattr(fd, &t), 0);
    cfmakeraw(&t);
    assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
    return fd;
}

static void test_console_zero_is_left_alone(void **state)
{
    struct bed *b = *state;
    assert_int_equal(xenbus_count(pvcon_bus(b->dev)), 1);
    assert_int_equal(be_state(b, "/local/domain/0/backend/console/1/0"), 1); /* untouched */
    assert_int_equal(be_state(b, BE), XB_INITWAIT);
    assert_non_null(fx_pv_read(b->fp, "/local/domain/0/device-model/1/backends/console"));
}

static void test_bytes_both_ways(void **state)
{
    struct bed *b = *state;
    int fd = open_tty(b);
    fe_connect(b);
    assert_int_equal(be_state(b, BE), XB_CONNECTED);
    /* guest -> dom0 */
    const char *msg = "HVMD-CHANNEL hello\n";
    for (size_t i = 0; i < strlen(msg); i++)
        ring(b)->out[MASK_XENCONS_IDX(i, ring(b)->out)] = msg[i];
    ring(b)->out_prod = (uint32_t)strlen(msg);
    fx_pv_notify(b->fp, b->port);
    fx_pv_run(b->fp, 0);
    assert_int_equal(ring(b)->out_cons, strlen(msg));
    char buf[64] = { 0 };
    ssize_t n = 0;
    for (int i = 0; i < 100 && n <= 0; i++) {
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
            usleep(10000);
    }
    assert_true(n > 0);
    assert_non_null(strstr(buf, "HVMD-CHANNEL hello"));
    /* dom0 -> guest */
    assert_int_equal(write(fd, "ping", 4), 4);
    for (int i = 0; i < 100 && ring(b)->in_prod < 4; i++)
        loop_run_once(b->fx->loop, 10);
    assert_int_equal(ring(b)->in_prod, 4);
    assert_memory_equal(ring(b)->in, "ping", 4);
    assert_true(fx_pv_notified(b->fp, b->port) >= 2);
    close(fd);
}

static void test_hostile_indexes_close(void **state)
{
    struct bed *b = *state;
    fe_connect(b);
    ring(b)->out_prod = 100000;
    fx_pv_notify(b->fp, b->port);
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b, BE), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    /* the frontend closes and starts again, sanely this time */
    fx_pv_write(b->fp, FE "/state", "6");
    fx_pv_run(b->fp, 0);
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b, BE), XB_INITWAIT);
    fx_pv_revoke(b->fp, b->ref);
    fe_connect(b);
    assert_int_equal(be_state(b, BE), XB_CONNECTED);
}

static void test_bad_ring_ref(void **state)
{
    struct bed *b = *state;
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_write(b->fp, FE "/ring-ref", "0x12");
    fx_pv_writef(b->fp, FE "/port", "%d", b->port);
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b, BE), XB_CLOSING);
    fx_pv_write(b->fp, FE "/ring-ref", "99");
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b, BE), XB_CLOSING);
    assert_int_equal(b->fp->binds_live, 0);
}

/* libxl's -chardev pty,id=libxl-channel1 is claimed by the console device; a socket one is not */
static void test_chardev_options_claimed(void **state)
{
    struct bed *b = *state;
    struct config cfg;
    char err[256];
    const char *argv[] = { "-xen-domid", "1", "-m", "16", "-chardev", "pty,id=libxl-channel1",
                           "-chardev", "socket,id=libxl-channel2,path=/tmp/x,server=on,wait=off" };
    assert_int_equal(config_parse(&cfg, 8, argv, err, sizeof(err)), 0);
    struct fakexen *fx = fx_new(16 << 20);
    struct fakepv *fp = fx_pv_new(1);
    fx->vm.pv = &fp->pv;
    fx->vm.cfg = &cfg;
    void *dev = NULL;
    assert_int_equal(pv_console.create(&fx->vm, &dev), 0);
    assert_true(cfg_nth(&cfg, "-chardev", 0)->claimed);
    assert_false(cfg_nth(&cfg, "-chardev", 1)->claimed);
    pv_console.destroy(dev);
    fx_pv_free(fp);
    fx->vm.cfg = NULL;
    fx_free(fx);
    config_free(&cfg);
    (void)b;
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_console_zero_is_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_indexes_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ring_ref, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chardev_options_claimed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
