/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/config: the command line libxl 4.17 builds for qemu-xen (dm/LIBXL-DM.md), and
 * clear refusals of what hvmd cannot do, each naming the option. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "dm/config.h"
#include "dm/log.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_libxl_argv(void **state)
{
    const char *const argv[] = {
        "-xen-domid", "5", "-no-shutdown",
        "-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-5,server=on,wait=off",
        "-mon", "chardev=libxl-cmd,mode=control",
        "-chardev", "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-5,server=on,wait=off",
        "-mon", "chardev=libxenstat-cmd,mode=control",
        "-nodefaults", "-no-user-config", "-name", "kern", "-vnc", "none", "-display", "none",
        "-kernel", "/media/guest-vmlinuz", "-initrd", "/media/guest-initrd.gz",
        "-append", "console=ttyS0,115200 quiet",
        "-serial", "pty", "-boot", "order=d", "-net", "none",
        "-machine", "xenfv,suppress-vmdesc=on", "-m", "248",
        "-drive", "file=/tmp/disk.img,if=ide,index=0,media=disk,format=raw,cache=writeback",
        "-drive", "if=none,readonly=on,id=ide-5632,file=/media/x.iso,format=raw",
        "-device", "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0",
    };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
    assert_int_equal(cfg.domid, 5);
    assert_true(cfg.no_shutdown);
    assert_string_equal(cfg.name, "kern");
    assert_string_equal(cfg.kernel, "/media/guest-vmlinuz");
    assert_string_equal(cfg.initrd, "/media/guest-initrd.gz");
    assert_string_equal(cfg.append, "console=ttyS0,115200 quiet");
    assert_int_equal(cfg.n_serial, 1);
    assert_string_equal(cfg.serial[0], "pty");
    assert_string_equal(cfg.boot_order, "d");
    assert_true(cfg.xen_platform);
    assert_int_equal(cfg.mem_mb, 248);
    assert_int_equal(cfg.smp, 1);

    struct cfg_opt *ch = cfg_by_id(&cfg, "-chardev", "libxl-cmd");
    assert_non_null(ch);
    assert_string_equal(ch->first, "socket");
    assert_string_equal(cfg_get(ch, "path"), "/var/run/xen/qmp-libxl-5");
    assert_string_equal(cfg_get(ch, "server"), "on");
    struct cfg_opt *mon = cfg_nth(&cfg, "-mon", 1);
    assert_string_equal(cfg_get(mon, "chardev"), "libxenstat-cmd");
    assert_string_equal(cfg_get(mon, "mode"), "control");

    struct cfg_ide ide[4];
    assert_int_equal(cfg_ide(&cfg, ide, err, sizeof(err)), 0);
    assert_int_equal(ide[0].media, CFG_MEDIA_DISK);
    assert_string_equal(ide[0].file, "/tmp/disk.img");
    assert_false(ide[0].readonly);
    assert_int_equal(ide[1].media, CFG_MEDIA_NONE);
    assert_int_equal(ide[2].media, CFG_MEDIA_CDROM);
    assert_string_equal(ide[2].file, "/media/x.iso");
    assert_string_equal(ide[2].id, "ide-5632");
    assert_true(ide[2].readonly);
    assert_false(cfg_has_display(&cfg));
    /* nothing claimed yet: the first option is the first unclaimed */
    assert_ptr_equal(cfg_unclaimed(&cfg), &cfg.opts[0]);
    for (unsigned i = 0; i < cfg.n_opts; i++)
        cfg.opts[i].claimed = 1;
    assert_null(cfg_unclaimed(&cfg));

    uint64_t lo, hi;
    cfg_ram_layout(&cfg, &lo, &hi);
    assert_int_equal(lo, 248ull << 20);
    assert_int_equal(hi, 0);
    config_free(&cfg);
}

/* libxl__build_device_model_args_new for a PV or PVH guest (no -serial, -drive, -boot) */
static void test_libxl_argv_xenpv(void **state)
{
    const char *argv[] = {
        "-xen-domid", "7", "-no-shutdown",
        "-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-7,server=on,wait=off",
        "-mon", "chardev=libxl-cmd,mode=control",
        "-chardev", "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-7,server=on,wait=off",
        "-mon", "chardev=libxenstat-cmd,mode=control",
        "-nodefaults", "-no-user-config", "-xen-attach", "-name", "pvh", "-vnc", "none",
        "-display", "none", "-machine", "xenpv", "-m", "512",
    };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
    assert_true(cfg_xenpv(&cfg));
    assert_false(cfg.xen_platform);
    assert_int_equal(cfg.domid, 7);
    assert_int_equal(cfg.mem_mb, 512);
    config_free(&cfg);
    const char *hvm[] = { "-xen-domid", "7", "-machine", "xenfv", "-m", "128" };
    assert_int_equal(config_parse(&cfg, ARGC(hvm), hvm, err, sizeof(err)), 0);
    assert_false(cfg_xenpv(&cfg));
    config_free(&cfg);
}

static void test_values(void **state)
{
    const char *const argv[] = { "-xen-domid", "1", "-m", "8G", "-smp", "2,maxcpus=4",
                           "-machine", "pc,accel=xen,suppress-vmdesc=on,max-ram-below-4g=3221225472",
                           "-device", "e1000,id=nic0,netdev=net0,mac=00:16:3e:00:00:01",
                           "-netdev", "type=tap,id=net0,ifname=vif1.0-emu,br=xenbr0,script=no,downscript=no",
                           "-device", "cirrus-vga,vgamem_mb=8", "-serial", "file:/tmp/a,,b.log",
                           "-serial", "none", "-chardev", "pty,id=x,path=a,,b", "-boot", "cda",
                           "-nographic", "-no-acpi", "-S", "--log-level", "debug" };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_parse(&cfg, ARGC(argv), argv, err, sizeof(err)), 0);
    assert_int_equal(cfg.mem_mb, 8192);
    assert_int_equal(cfg.smp, 2);
    assert_int_equal(cfg.maxcpus, 4);
    assert_false(cfg.xen_platform);
    assert_int_equal(cfg.max_ram_below_4g, 3221225472ull);
    uint64_t lo, hi;
    cfg_ram_layout(&cfg, &lo, &hi);
    assert_int_equal(lo, 3ull << 30);
    assert_int_equal(hi, (4ull << 30) + (5ull << 30));
    struct cfg_opt *nic = cfg_device(&cfg, "e1000", 0);
    assert_non_null(nic);
    assert_string_equal(cfg_get(nic, "mac"), "00:16:3e:00:00:01");
    assert_string_equal(cfg_get(cfg_by_id(&cfg, "-netdev", "net0"), "ifname"), "vif1.0-emu");
    assert_true(cfg_has_display(&cfg));
    /* -serial keeps its argument whole; ",," is a comma in key=value lists */
    assert_string_equal(cfg.serial[0], "file:/tmp/a,,b.log");
    assert_string_equal(cfg.serial[1], "none");
    assert_string_equal(cfg_get(cfg_by_id(&cfg, "-chardev", "x"), "path"), "a,b");
    assert_string_equal(cfg.boot_order, "cda");
    assert_true(cfg.nographic);
    assert_true(cfg.no_acpi);
    assert_true(cfg.start_stopped);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    config_free(&cfg);
}

struct refusal {
    const char *opt, *arg, *expect;
};

static void test_refusals_name_the_option(void **state)
{
    static const struct refusal cases[] = {
        { "-vnc", "127.0.0.1:0,lossy", "-vnc 127.0.0.1:0,lossy: option lossy not supported" },
        { "-vnc", "127.0.0.1", "-vnc 127.0.0.1: expected ADDRESS:DISPLAY" },
        { "-vnc", "127.0.0.1:x", "display x is not a number" },
        { "-vnc", "127.0.0.1:0,to=z", "to=z is not a display number" },
        { "-soundhw", "hda", "-soundhw hda: not supported by hvmd: sound" },
        { "-machine", "xenpv,igd-passthru=on", "'igd-passthru' is not supported" },
        { "-machine", "xenpvh", "unknown machine type 'xenpvh'" },
        { "-machine", "xenfv,igd-passthru=on", "'igd-passthru' is not supported" },
        { "-incoming", "tcp:0:4444", "-incoming tcp:0:4444: hvmd loads device state from fd:N or file:PATH only" },
        { "-frobnicate", NULL, "-frobnicate: unknown option" },
        { "-serial", "tcp:1.2.3.4:5", "-serial tcp:1.2.3.4:5: not supported" },
        { "-boot", "order=x", "boot device 'x' unknown" },
        { "-boot", "order=c,menu=on", "'menu' is not supported" },
        { "-smp", "0", "-smp 0:" },
        { "-m", "lots", "-m lots: expected a size" },
        { "-net", "nic", "-net nic: not supported" },
        { "-display", "sdl", "-display sdl: not supported" },
        { "-runas", "0:0", "-runas 0:0: is root" }, /* dm_restrict: more in test_restrict */
        { "-chroot", "/nonexistent", "-chroot /nonexistent:" },
        { "-k", "fr", "-k fr: hvmd knows the keyboard layouts en-us and de" },
        { "--log-level", "loud", "--log-level loud" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *argv[8];
        int n = 0;
        argv[n++] = "-xen-domid";
        argv[n++] = "3";
        argv[n++] = "-m";
        argv[n++] = "64";
        argv[n++] = cases[i].opt;
        if (cases[i].arg)
            argv[n++] = cases[i].arg;
        struct config cfg;
        char err[256] = "";
        assert_int_equal(config_parse(&cfg, n, argv, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i].expect))
            fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].opt, err, cases[i].expect);
        assert_null(cfg.strings); /* nothing left allocated */
    }
}

/* what libxl passes for vnc=1, vncunused=1, vncpasswd=..., keymap="de" */
static void test_vnc_options(void **state)
{
    const char *const argv[] = { "-xen-domid", "3", "-m", "64", "-vnc",
                                 "127.0.0.1:0,password=on,to=99", "-k", "de", "-vncunused" };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_parse(&cfg, ARRAY_SIZE(argv), argv, err, sizeof(err)), 0);
    assert_string_equal(cfg.vnc, "127.0.0.1:0,password=on,to=99");
    assert_string_equal(cfg.keymap, "de");
    assert_int_equal(cfg.vnc_unused, 1);
    config_free(&cfg);
}

static void test_missing_and_incomplete(void **state)
{
    struct config cfg;
    char err[256];
    const char *const a1[] = { "-m", "64" };
    assert_int_equal(config_parse(&cfg, 2, a1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-xen-domid"));
    const char *const a2[] = { "-xen-domid", "4" };
    assert_int_equal(config_parse(&cfg, 2, a2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-m"));
    const char *const a3[] = { "-xen-domid", "4", "-m", "64", "-kernel" };
    assert_int_equal(config_parse(&cfg, 5, a3, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-kernel: needs an argument"));
    const char *const a4[] = { "-xen-domid", "4", "-m", "64", "-initrd", "x" };
    assert_int_equal(config_parse(&cfg, 6, a4, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "needs -kernel"));
    const char *const a5[] = { "-xen-domid", "4", "-m", "64", "stray" };
    assert_int_equal(config_parse(&cfg, 5, a5, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "stray"));
    /* IDE position conflicts */
    const char *const a6[] = { "-xen-domid", "4", "-m", "64",
                         "-drive", "file=/a,if=ide,index=2,media=disk",
                         "-drive", "if=none,id=cd,file=/b", "-device", "ide-cd,drive=cd,bus=ide.1,unit=0" };
    assert_int_equal(config_parse(&cfg, ARGC(a6), a6, err, sizeof(err)), 0);
    struct cfg_ide ide[4];
    assert_int_equal(cfg_ide(&cfg, ide, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "position 2 is taken"));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libxl_argv),
        cmocka_unit_test(test_libxl_argv_xenpv),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refusals_name_the_option),
        cmocka_unit_test(test_missing_and_incomplete),
        cmocka_unit_test(test_vnc_options),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
