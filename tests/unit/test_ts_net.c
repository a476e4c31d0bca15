/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of hvmctl network's parsers and generators: network.conf (every error names file,
 * line and key), MACs, vif names, the nft ruleset and dnsmasq command line a NAT network gets,
 * and the state files `down` relies on (they must read back exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "toolstack/net/net.h"
#include "toolstack/net/dhcp.h"
#include "toolstack/net/nft.h"
#include "toolstack/net/state.h"
#include "toolstack/net/vif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct net_config cfg;
static char err[600];

static void conf_ok(const char *text)
{
    int rc = net_conf_parse_text(text, "t.conf", &cfg, err, sizeof(err));
    if (rc != 0)
        fail_msg("config refused: %s", err);
}

static void conf_bad(const char *text, const char *want)
{
    int rc = net_conf_parse_text(text, "t.conf", &cfg, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    if (!strstr(err, want))
        fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_conf_bridge_defaults(void **state)
{
    conf_ok("# dom0\n[xenbr0]\nmode = bridge\nnetdev = eth0\n\n[xenbr1]\nmode=bridge\n"
            "netdev=eth1\nstp=on\nageing = 120\n");
    assert_int_equal(cfg.n, 2);
    assert_string_equal(cfg.net[0].name, "xenbr0");
    assert_int_equal(cfg.net[0].mode, NET_MODE_BRIDGE);
    assert_true(cfg.net[0].is_default);              /* the first, when none says so */
    assert_false(cfg.net[0].stp);
    assert_int_equal(cfg.net[0].fwd_delay, 0);
    assert_int_equal(cfg.net[0].ageing, 300);
    assert_true(cfg.net[1].stp);
    assert_int_equal(cfg.net[1].fwd_delay, 15);      /* STP's own default */
    assert_int_equal(cfg.net[1].ageing, 120);
    assert_false(cfg.net[1].is_default);
}

static void test_conf_nat(void **state)
{
    char a[INET_ADDRSTRLEN];

    conf_ok("[nat0]\nmode = nat\nsubnet = 10.0.100.1/24\nforward = tcp 8022 10.0.100.50 22\n"
            "forward = udp 5353 10.0.100.51\ndefault = yes\n");
    assert_int_equal(cfg.net[0].plen, 24);
    inet_ntop(AF_INET, &cfg.net[0].dhcp_lo, a, sizeof(a));
    assert_string_equal(a, "10.0.100.128");
    inet_ntop(AF_INET, &cfg.net[0].dhcp_hi, a, sizeof(a));
    assert_string_equal(a, "10.0.100.254");
    assert_int_equal(cfg.net[0].nfwd, 2);
    assert_int_equal(cfg.net[0].fwd[0].proto, IPPROTO_TCP);
    assert_int_equal(cfg.net[0].fwd[0].port, 8022);
    assert_int_equal(cfg.net[0].fwd[0].to_port, 22);
    assert_int_equal(cfg.net[0].fwd[1].to_port, 5353);   /* same port when not given */
    assert_true(cfg.net[0].dhcp);
}

static void test_conf_errors(void **state)
{
    conf_bad("[a]\nmode = bridge\ncolour = blue\n", "t.conf:3: unknown key 'colour'");
    conf_bad("[a]\nmode = switch\n", "t.conf:2: mode 'switch': want bridge, route or nat");
    conf_bad("[a]\nnetdev = eth0\n", "t.conf:1: [a]: no mode");
    conf_bad("[a]\nmode = bridge\nboot-dir = /srv\n", "'boot-dir' does not apply to bridge mode");
    conf_bad("[a]\nmode = nat\nsubnet = 10.0.0.1/24\nboot-dir = srv\n", "want an absolute path");
    conf_bad("[a]\nmode = nat\nsubnet = 10.0.0.1/24\nboot-dir = /srv\nboot-file = ../x\n",
             "want a file name under boot-dir");
    conf_bad("[a]\nmode = nat\nsubnet = 10.0.0.1/24\nboot-file = x\n", "boot-file needs boot-dir");
    conf_bad("[a]\nmode = nat\nsubnet = 10.0.0.1/24\ndhcp = off\nboot-dir = /srv\n",
             "need dhcp = on");
    conf_bad("[a]\nmode = bridge\nsubnet = 10.0.0.1/24\n", "'subnet' does not apply to bridge mode");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.300.1/24\n", "t.conf:3: subnet '10.0.300.1/24' is not");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.0.1/31\n", "prefix length /31");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.0.255/24\n", "10.0.0.255 is the broadcast address");
    conf_bad("[n]\nmode = nat\n", "nat mode needs subnet");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.0.1/24\ndhcp-range = 10.0.1.5 10.0.1.9\n",
             "not an ascending range of host addresses inside the subnet");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.0.1/24\nforward = sctp 1 10.0.0.5\n",
             "forward: protocol 'sctp'");
    conf_bad("[n]\nmode = nat\nsubnet = 10.0.0.1/24\nforward = tcp 80 10.0.0.1\n",
             "forward to 10.0.0.1: not a guest address");
    conf_bad("[a]\nmode = bridge\nstp = on\nforward-delay = 1\n", "forward-delay must be 2 to 30");
    conf_bad("[a]\nmode = bridge\nforward-delay = 31\n", "forward-delay '31'");
    conf_bad("[a]\nmode = bridge\nnetdev = eth0\n[b]\nmode = bridge\nnetdev = eth0\n",
             "both want netdev eth0");
    conf_bad("[a]\nmode = route\n[a]\nmode = route\n", "[a] is defined twice");
    conf_bad("[n1]\nmode = nat\nsubnet = 10.0.0.1/16\n[n2]\nmode = nat\nsubnet = 10.0.5.1/24\n",
             "[n2] subnet overlaps the subnet of [n1]");
    conf_bad("[a]\nmode=route\ndefault=yes\n[b]\nmode=route\ndefault=yes\n", "more than one");
    conf_bad("[this-name-is-too-long]\nmode = route\n", "not a valid interface name");
    conf_bad("mode = route\n", "outside a [network] section");
    conf_bad("", "no network defined");
    conf_bad("[a]\nmode = bridge\nmode = route\n", "'mode' given twice");
}

static void test_mac(void **state)
{
    uint8_t m[6];
    char why[128], s[18];

    assert_int_equal(net_parse_mac("00:16:3E:0a:0b:0c", m, why, sizeof(why)), 0);
    net_format_mac(m, s);
    assert_string_equal(s, "00:16:3e:0a:0b:0c");
    assert_int_equal(net_parse_mac("01:16:3e:00:00:01", m, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "multicast"));
    assert_int_equal(net_parse_mac("00:00:00:00:00:00", m, why, sizeof(why)), -EINVAL);
    assert_int_equal(net_parse_mac("00:16:3e:00:00", m, why, sizeof(why)), -EINVAL);
    assert_int_equal(net_parse_mac("00:16:3e:00:00:0g", m, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "not a MAC address"));
    for (int i = 0; i < 64; i++) {
        net_random_mac(m);
        assert_int_equal(m[0], 0x00);
        assert_int_equal(m[1], 0x16);
        assert_int_equal(m[2], 0x3e);
        assert_int_equal(m[3] & 0x80, 0);
    }
}

static void test_vif_names(void **state)
{
    char b[IFNAMSIZ];
    uint32_t d;
    int n;
    bool emu;

    assert_int_equal(net_vif_name(b, sizeof(b), 5, 0, false), 0);
    assert_string_equal(b, "vif5.0");
    assert_int_equal(net_vif_name(b, sizeof(b), 32752, 3, true), 0);
    assert_string_equal(b, "vif32752.3-emu");
    assert_int_equal(net_vif_name(b, sizeof(b), 4000000000u, 99, true), -ENAMETOOLONG);
    assert_int_equal(net_parse_vif_name("vif12.1-emu", &d, &n, &emu), 0);
    assert_int_equal(d, 12);
    assert_int_equal(n, 1);
    assert_true(emu);
    assert_int_equal(net_parse_vif_name("vif12.1", &d, &n, &emu), 0);
    assert_false(emu);
    assert_int_equal(net_parse_vif_name("vif12.1-tap", &d, &n, &emu), -EINVAL);
    assert_int_equal(net_parse_vif_name("eth0", &d, &n, &emu), -EINVAL);
    assert_false(net_valid_ifname("a/b"));
    assert_false(net_valid_ifname(".."));
    assert_true(net_valid_ifname("xenbr0"));
}

static void test_vif_ips(void **state)
{
    struct vif_req r;
    char why[128], a[INET_ADDRSTRLEN];

    memset(&r, 0, sizeof(r));
    assert_int_equal(vif_parse_ips("10.0.0.5/24 10.0.0.6,10.0.0.7", &r, why, sizeof(why)), 0);
    assert_int_equal(r.nips, 3);
    inet_ntop(AF_INET, &r.ips[0], a, sizeof(a));
    assert_string_equal(a, "10.0.0.5");
    assert_int_equal(vif_parse_ips("10.0.0.300", &r, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "'10.0.0.300' is not an IPv4 address"));
}

static void test_nft_ruleset(void **state)
{
    char buf[NET_NFT_MAX];

    conf_ok("[nat0]\nmode = nat\nsubnet = 10.0.100.1/24\nnetdev = eth0\n"
            "forward = tcp 8022 10.0.100.50 22\n");
    assert_int_equal(net_nft_ruleset(&cfg.net[0], buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "add table ip hvmctl\n"));
    assert_non_null(strstr(buf, "add chain ip hvmctl post-nat0 { type nat hook postrouting "
                                "priority srcnat; policy accept; }\n"));
    assert_non_null(strstr(buf, "add rule ip hvmctl post-nat0 ip saddr 10.0.100.0/24 ip daddr != "
                                "10.0.100.0/24 oifname \"eth0\" masquerade\n"));
    assert_non_null(strstr(buf, "add rule ip hvmctl pre-nat0 iifname \"eth0\" fib daddr type local "
                                "tcp dport 8022 dnat to 10.0.100.50:22\n"));
    /* no netdev: whatever leaves by another device than the bridge, no forwards: no pre chain */
    conf_ok("[nat1]\nmode = nat\nsubnet = 10.1.0.1/16\n");
    assert_int_equal(net_nft_ruleset(&cfg.net[0], buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "oifname != \"nat1\" masquerade"));
    assert_null(strstr(buf, "pre-nat1"));
    assert_int_equal(net_nft_ruleset(&cfg.net[0], buf, 40), -ENOSPC);
}

static void test_dnsmasq_argv(void **state)
{
    struct net_ctx c;
    char *argv[NET_DHCP_MAXARGS], store[4096], all[4096] = "";
    int i;

    assert_int_equal(net_ctx_init(&c, "/run/x", false), 0);
    conf_ok("[nat0]\nmode = nat\nsubnet = 10.0.100.1/24\ndhcp-range = 10.0.100.10 10.0.100.20\n"
            "lease = 600\ndns = off\n");
    assert_int_equal(net_dhcp_argv(&c, &cfg.net[0], argv, store, sizeof(store)), 0);
    assert_string_equal(argv[0], "/usr/sbin/dnsmasq");
    for (i = 0; argv[i]; i++) {
        strcat(all, argv[i]);
        strcat(all, " ");
    }
    assert_non_null(strstr(all, " --conf-file=/dev/null "));
    assert_non_null(strstr(all, " --pid-file=/run/x/dnsmasq-nat0.pid "));
    assert_non_null(strstr(all, " --interface=nat0 "));
    assert_non_null(strstr(all, " --bind-interfaces "));
    assert_non_null(strstr(all, " --dhcp-range=10.0.100.10,10.0.100.20,255.255.255.0,600 "));
    assert_non_null(strstr(all, " --dhcp-option=option:router,10.0.100.1 "));
    assert_non_null(strstr(all, " --dhcp-hostsfile=/run/x/dnsmasq-nat0.hosts "));
    assert_non_null(strstr(all, " --port=0 "));
    assert_null(strstr(all, "tftp"));
    /* PXE: TFTP from boot-dir and the boot file in DHCP, on this network only */
    conf_ok("[nat0]\nmode = nat\nsubnet = 10.0.100.1/24\nboot-dir = /srv/pxe\n"
            "boot-file = boot.ipxe\n");
    assert_int_equal(net_dhcp_argv(&c, &cfg.net[0], argv, store, sizeof(store)), 0);
    all[0] = 0;
    for (i = 0; argv[i]; i++) {
        strcat(all, argv[i]);
        strcat(all, " ");
    }
    assert_non_null(strstr(all, " --interface=nat0 "));
    assert_non_null(strstr(all, " --enable-tftp --tftp-root=/srv/pxe --dhcp-boot=boot.ipxe "));
    net_ctx_fini(&c);
}

static void test_state_roundtrip(void **state)
{
    struct net_state s, back;
    struct vif_state v, vback;
    char buf[16384], again[16384], why[64];

    memset(&s, 0, sizeof(s));
    conf_ok("[xenbr0]\nmode = bridge\nnetdev = eth0\nstp = on\nforward-delay = 4\n");
    s.conf = cfg.net[0];
    s.bridge_ifindex = 7;
    s.nic_was_up = true;
    s.nic_mtu = 9000;
    s.naddrs = 2;
    s.addrs[0].family = AF_INET;
    inet_pton(AF_INET, "10.1.0.2", s.addrs[0].local);
    s.addrs[0].has_local = true;
    inet_pton(AF_INET, "10.1.0.255", s.addrs[0].brd);
    s.addrs[0].has_brd = true;
    s.addrs[0].plen = 24;
    s.addrs[0].valid = s.addrs[0].pref = 0xffffffffu;
    s.addrs[1].family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::2", s.addrs[1].local);
    s.addrs[1].has_local = true;
    s.addrs[1].plen = 64;
    s.addrs[1].valid = 3600;
    s.addrs[1].pref = 1800;
    s.nroutes = 1;
    s.routes[0].family = AF_INET;
    s.routes[0].protocol = RTPROT_STATIC;
    s.routes[0].table = RT_TABLE_MAIN;
    s.routes[0].type = RTN_UNICAST;
    inet_pton(AF_INET, "10.1.0.1", s.routes[0].gw);
    s.routes[0].has_gw = true;
    s.routes[0].priority = 100;
    s.routes[0].has_priority = true;
    assert_int_equal(net_state_format(&s, buf, sizeof(buf)), 0);
    assert_int_equal(net_state_parse(buf, &back), 0);
    assert_int_equal(net_state_format(&back, again, sizeof(again)), 0);
    assert_string_equal(buf, again);
    assert_int_equal(back.naddrs, 2);
    assert_int_equal(back.addrs[1].valid, 3600);
    assert_true(back.routes[0].has_gw);
    assert_int_equal(back.routes[0].priority, 100);
    assert_int_equal(back.conf.fwd_delay, 4);
    assert_int_equal(net_state_parse("name x\n", &back), -EINVAL);   /* no mode: damaged */

    memset(&v, 0, sizeof(v));
    strcpy(v.ifname, "vif5.0-emu");
    strcpy(v.network, "routed");
    v.mode = NET_MODE_ROUTE;
    v.tap = true;
    v.has_mac = true;
    assert_int_equal(net_parse_mac("00:16:3e:01:02:03", v.mac, why, sizeof(why)), 0);
    v.nips = 2;
    inet_pton(AF_INET, "10.1.0.50", &v.ips[0]);
    inet_pton(AF_INET, "10.1.0.51", &v.ips[1]);
    inet_pton(AF_INET, "10.1.0.2", &v.dom0ip);
    assert_int_equal(vif_state_format(&v, buf, sizeof(buf)), 0);
    assert_int_equal(vif_state_parse(buf, &vback), 0);
    assert_memory_equal(&v, &vback, sizeof(v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_bridge_defaults), cmocka_unit_test(test_conf_nat),
        cmocka_unit_test(test_conf_errors),          cmocka_unit_test(test_mac),
        cmocka_unit_test(test_vif_names),            cmocka_unit_test(test_vif_ips),
        cmocka_unit_test(test_nft_ruleset),          cmocka_unit_test(test_dnsmasq_argv),
        cmocka_unit_test(test_state_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
