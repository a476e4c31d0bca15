/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/net: a backend over one end of a packet socket pair (the test plays dom0 on the other):
 * frames both ways, flow control by the NIC's room, drops counted, the link going down when
 * dom0's side goes away, and -netdev refusals named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/net.h"
#include "tests/lib/fakexen.h"

struct nic {
    int room;              /* frames the fake NIC can still take */
    unsigned got;
    size_t last_len;
    uint8_t last[2048];
    int link_calls, link;
};

static int nic_can(void *o) { return ((struct nic *)o)->room > 0; }

static void nic_rx(void *o, const struct iovec *iov, int n, size_t len)
{
    struct nic *c = o;
    assert_int_equal(n, 1);
    assert_int_equal(iov[0].iov_len, len);
    c->room--;
    c->got++;
    c->last_len = len;
    memcpy(c->last, iov[0].iov_base, MIN(len, sizeof(c->last)));
}

static void nic_link(void *o, int up)
{
    struct nic *c = o;
    c->link_calls++;
    c->link = up;
}

static const struct net_client_ops nic_ops = { nic_can, nic_rx, nic_link };

struct bed {
    struct fakexen *fx;
    struct net *n;
    int dom0;
    struct nic nic;
};

static void up(struct bed *b)
{
    int sv[2];
    memset(b, 0, sizeof(*b));
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    b->fx = fx_new(16 << 20);
    b->n = net_new_fd(fx_vm(b->fx), "net0", sv[0]);
    assert_non_null(b->n);
    b->dom0 = sv[1];
    assert_ptr_equal(net_find(fx_vm(b->fx), "net0"), b->n);
    assert_null(net_find(fx_vm(b->fx), "net1"));
}

static void down(struct bed *b)
{
    net_free_all(fx_vm(b->fx));
    if (b->dom0 >= 0)
        close(b->dom0);
    fx_free(b->fx);
}

static void frames_both_ways(void **st)
{
    (void)st;
    struct bed b;
    up(&b);
    b.nic.room = 100;
    assert_int_equal(net_attach(b.n, &nic_ops, &b.nic), 0);
    assert_int_equal(net_attach(b.n, &nic_ops, &b.nic), -EBUSY);
    uint8_t f[60];
    for (unsigned i = 0; i < sizeof(f); i++)
        f[i] = (uint8_t)i;
    assert_int_equal(write(b.dom0, f, sizeof(f)), sizeof(f));
    loop_run_once(b.fx->loop, 100);
    assert_int_equal(b.nic.got, 1);
    assert_int_equal(b.nic.last_len, 60);
    assert_memory_equal(b.nic.last, f, 60);
    /* out, in two parts: one frame */
    struct iovec iov[2] = { { f, 14 }, { f + 14, 46 } };
    assert_int_equal(net_send(b.n, iov, 2), 0);
    uint8_t in[100];
    assert_int_equal(read(b.dom0, in, sizeof(in)), 60);
    assert_memory_equal(in, f, 60);
    const struct net_stats *s = net_stats(b.n);
    assert_int_equal(s->rx_frames, 1);
    assert_int_equal(s->tx_frames, 1);
    assert_int_equal(s->tx_bytes, 60);
    /* too large and empty frames are dropped, counted */
    static uint8_t big[NET_MAX_FRAME + 1];
    struct iovec bi = { big, sizeof(big) };
    assert_int_equal(net_send(b.n, &bi, 1), -EMSGSIZE);
    assert_int_equal(net_send(b.n, iov, 0), -ENETDOWN);
    assert_int_equal(s->tx_dropped, 2);
    down(&b);
}

static void flow_control(void **st)
{
    (void)st;
    struct bed b;
    up(&b);
    uint8_t f[64] = { 1 };
    /* before a NIC attaches nothing is read */
    assert_int_equal(write(b.dom0, f, sizeof(f)), sizeof(f));
    loop_run_once(b.fx->loop, 20);
    b.nic.room = 2;
    assert_int_equal(net_attach(b.n, &nic_ops, &b.nic), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(write(b.dom0, f, sizeof(f)), sizeof(f));
    for (int i = 0; i < 5; i++)
        loop_run_once(b.fx->loop, 20);
    assert_int_equal(b.nic.got, 2);              /* the NIC's room, no more */
    b.nic.room = 10;
    net_rx_ready(b.n);
    for (int i = 0; i < 5; i++)
        loop_run_once(b.fx->loop, 20);
    assert_int_equal(b.nic.got, 5);              /* the rest waited in dom0's queue, none lost */
    assert_int_equal(net_stats(b.n)->rx_frames, 5);
    /* detached: nothing more is read */
    net_detach(b.n);
    assert_int_equal(write(b.dom0, f, sizeof(f)), sizeof(f));
    for (int i = 0; i < 3; i++)
        loop_run_once(b.fx->loop, 20);
    assert_int_equal(b.nic.got, 5);
    down(&b);
}

static void link_goes_down(void **st)
{
    (void)st;
    struct bed b;
    up(&b);
    b.nic.room = 10;
    assert_int_equal(net_attach(b.n, &nic_ops, &b.nic), 0);
    assert_true(net_link_up(b.n));
    close(b.dom0); /* dom0's end goes: reading sees the end */
    b.dom0 = -1;
    for (int i = 0; i < 3; i++)
        loop_run_once(b.fx->loop, 20);
    assert_false(net_link_up(b.n));
    assert_int_equal(b.nic.link_calls, 1);     /* the NIC heard it once */
    assert_int_equal(b.nic.link, 0);
    uint8_t f[60] = { 0 };
    struct iovec iov = { f, sizeof(f) };
    assert_int_equal(net_send(b.n, &iov, 1), -ENETDOWN); /* dropped while down, counted */
    assert_int_equal(net_stats(b.n)->tx_dropped, 1);
    down(&b);
}

static int parse(struct config *cfg, const char *netdev, char *err, size_t errlen)
{
    const char *argv[] = { "-xen-domid", "1", "-m", "16", "-netdev", netdev };
    return config_parse(cfg, 6, argv, err, errlen);
}

static void netdev_refusals(void **st)
{
    (void)st;
    static const struct {
        const char *arg, *says;
    } bad[] = {
        { "type=user,id=net0", "type user is not supported" },
        { "type=tap,ifname=vif1.0-emu,script=no,downscript=no", "no id=" },
        { "type=tap,id=net0,script=no,downscript=no", "ifname= must name the tap" },
        { "type=tap,id=net0,ifname=vif1.0-emu-way-too-long-name,script=no", "ifname= must name" },
        { "type=tap,id=net0,ifname=vif1.0-emu,script=/etc/qemu-ifup", "hvmd runs no scripts" },
        { "type=tap,id=net0,ifname=vif1.0-emu,vhost=on", "option vhost is not supported" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config cfg;
        struct machine m;
        char err[256] = "";
        assert_int_equal(parse(&cfg, bad[i].arg, err, sizeof(err)), 0);
        struct fakexen *fx = fx_new(16 << 20);
        fx->vm.cfg = &cfg;
        assert_int_equal(machine_create(&m, &fx->vm, err, sizeof(err)), -EINVAL);
        if (!strstr(err, bad[i].says))
            fail_msg("-netdev %s: got \"%s\", want \"%s\"", bad[i].arg, err, bad[i].says);
        assert_null(fx->vm.nets); /* nothing left behind */
        fx_free(fx);
        config_free(&cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_both_ways),
        cmocka_unit_test(flow_control),
        cmocka_unit_test(link_goes_down),
        cmocka_unit_test(netdev_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
