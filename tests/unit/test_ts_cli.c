/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ts_cli.c: hvmctl's domain commands as a person types them, up to the point where they
 * need Xen: usage errors (exit 2), --help (exit 0, on stdout), and a bad config file refused
 * with its file:line:key message (exit 1) before any talk to Xen. The commands run in this
 * process with stdout and stderr caught in files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/xl/domains.h"

static char dir[64];

struct out {
    int rc;
    char *out;
    char *err;
};

static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;

    if (ts_read_file(path, &data, &len) < 0)
        return strdup("");
    return data;
}

/* run CMD with argv (NULL-terminated), stdout and stderr to files */
static void run(struct out *o, int (*cmd)(int, char **), ...)
{
    char *argv[16], opath[96], epath[96];
    int argc = 0, saved1, saved2, fo, fe;
    va_list ap;

    va_start(ap, cmd);
    while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
        argc++;
    va_end(ap);
    argv[argc] = NULL;
    snprintf(opath, sizeof(opath), "%s/out", dir);
    snprintf(epath, sizeof(epath), "%s/err", dir);
    fflush(stdout);
    fflush(stderr);
    saved1 = dup(1);
    saved2 = dup(2);
    fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    o->rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved1, 1);
    dup2(saved2, 2);
    close(saved1);
    close(saved2);
    close(fo);
    close(fe);
    o->out = slurp(opath);
    o->err = slurp(epath);
}

static void done(struct out *o)
{
    free(o->out);
    free(o->err);
}

static int setup(void **state)
{
    char conf[96];
    FILE *f;

    (void)state;
    strcpy(dir, "/tmp/test_ts_cli.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* hvmctl's settings for these runs: a file of our own (no device_model: hvmctl's default) */
    snprintf(conf, sizeof(conf), "%s/hvmctl.conf", dir);
    f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f, "log_dir = \"%s\"\n", dir);
    fclose(f);
    setenv("HVMCTL_CONF", conf, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_usage_errors(void **state)
{
    struct out o;

    (void)state;
    run(&o, cmd_create, "create", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "usage: hvmctl create CFG"));
    done(&o);
    run(&o, cmd_create, "create", "a.cfg", "b.cfg", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "one config file only"));
    done(&o);
    run(&o, cmd_create, "create", "-c", "-F", "a.cfg", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "-c and -F do not go together"));
    done(&o);
    run(&o, cmd_create, "create", "--bogus", "a.cfg", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_console, "console", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_console, "console", "--type", "vga", "web1", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "--type vga: serial or pv"));
    done(&o);
    /* console --web: usage errors, named */
    run(&o, cmd_console, "console", "--listen", "127.0.0.1:6080", "web1", NULL);
    assert_int_equal(o.rc, 2);                  /* --listen without --web */
    done(&o);
    run(&o, cmd_console, "console", "--web", "--vnc", "nowhere", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "--vnc nowhere: expected HOST:PORT"));
    done(&o);
    run(&o, cmd_console, "console", "--web", "--vnc", "127.0.0.1:5900", "--listen", ":80", NULL);
    assert_int_equal(o.rc, 2);
    assert_non_null(strstr(o.err, "--listen :80: expected ADDRESS:PORT"));
    done(&o);
    run(&o, cmd_shutdown, "shutdown", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_shutdown, "shutdown", "-w", "--timeout", "soon", "web1", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_list, "list", "--bogus", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_destroy, "destroy", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_cd_insert, "cd-insert", "web1", "hdc", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
    run(&o, cmd_log, "log", NULL);
    assert_int_equal(o.rc, 2);
    done(&o);
}

static void test_help(void **state)
{
    static int (*const cmds[])(int, char **) = {
        cmd_create, cmd_list, cmd_console, cmd_pause, cmd_unpause, cmd_shutdown, cmd_reboot,
        cmd_destroy, cmd_cd_insert, cmd_cd_eject, cmd_log,
    };
    static const char *const names[] = {
        "create", "list", "console", "pause", "unpause", "shutdown", "reboot", "destroy",
        "cd-insert", "cd-eject", "log",
    };
    char want[64];
    struct out o;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        run(&o, cmds[i], names[i], "--help", NULL);
        snprintf(want, sizeof(want), "usage: hvmctl %s", names[i]);
        if (o.rc != 0 || !strstr(o.out, want))
            fail_msg("%s --help: rc %d, stdout '%s'", names[i], o.rc, o.out);
        done(&o);
    }
}

static void test_bad_config_refused_before_xen(void **state)
{
    char cfg[96];
    struct out o;
    FILE *f;

    (void)state;
    snprintf(cfg, sizeof(cfg), "%s/bad.cfg", dir);
    f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("name = \"bad\"\ntype = \"pvh\"\nkernel = \"/nonexistent/vmlinuz\"\nmemory = \"lots\"\n"
          "colour = \"blue\"\n", f);
    fclose(f);
    run(&o, cmd_create, "create", cfg, NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "bad.cfg:3: kernel: /nonexistent/vmlinuz: No such file"));
    assert_non_null(strstr(o.err, "bad.cfg:4: memory: 'lots' is not a number"));
    assert_non_null(strstr(o.err, "bad.cfg:5: warning: colour: unknown key, ignored"));
    assert_non_null(strstr(o.err, "bad.cfg: not created (2 errors)"));
    assert_string_equal(o.out, "");
    done(&o);

    /* the override is refused too, naming the command line */
    run(&o, cmd_create, "create", cfg, "kernel=/bin/sh", "memory=64", "vcpus=many", NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "command line: vcpus: 'many' is not a number"));
    assert_non_null(strstr(o.err, "not created (1 error)"));
    done(&o);

    run(&o, cmd_create, "create", "/nonexistent/x.cfg", NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "/nonexistent/x.cfg: cannot read: No such file or directory"));
    done(&o);
}

static void test_files_checked_before_xen(void **state)
{
    struct out o;

    (void)state;
    run(&o, cmd_cd_insert, "cd-insert", "web1", "hdc", "/nonexistent.iso", NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "cd-insert: /nonexistent.iso: No such file or directory"));
    done(&o);
    run(&o, cmd_log, "log", "no-such-guest", NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "qemu-dm-no-such-guest.log"));
    done(&o);
    run(&o, cmd_log, "log", "../etc", NULL);
    assert_int_equal(o.rc, 1);
    assert_non_null(strstr(o.err, "is not a domain name"));
    done(&o);
}

/* an HVM guest's file that names no device model gets hvmd, hvmctl's default: an hvmd that is
 * not there refuses the create before any talk to Xen, saying how to pick qemu-xen instead */
static void test_hvm_default_dm(void **state)
{
    char cfg[96], want[400];
    struct out o;
    FILE *f;

    (void)state;
    snprintf(cfg, sizeof(cfg), "%s/hvm.cfg", dir);
    f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("name = \"hvm\"\ntype = \"hvm\"\nmemory = 128\n", f);
    fclose(f);
    snprintf(want, sizeof(want), "%s/no-hvmd", dir);
    setenv("HVMCTL_HVMD", want, 1);
    run(&o, cmd_create, "create", cfg, NULL);
    unsetenv("HVMCTL_HVMD");
    assert_int_equal(o.rc, 1);
    snprintf(want, sizeof(want), "%s: hvmd, hvmctl's default device model: %s/no-hvmd: No such "
             "file or directory (device_model = \"qemu-xen\" in %s/hvmctl.conf selects qemu-xen)",
             cfg, dir, dir);
    if (!strstr(o.err, want))
        fail_msg("stderr '%s' lacks '%s'", o.err, want);
    assert_non_null(strstr(o.err, "hvm.cfg: not created (1 error)"));
    assert_string_equal(o.out, "");
    done(&o);
    /* --help says so */
    run(&o, cmd_create, "create", "--help", NULL);
    assert_int_equal(o.rc, 0);
    assert_non_null(strstr(o.out, "HVM guests get hvmd, or the device model of"));
    assert_non_null(strstr(o.out, "vga\ndefaults to stdvga (under hvmd as under qemu-xen)"));
    done(&o);
}

static void test_monitor_log(void **state)
{
    char path[96];
    struct out o;
    FILE *f;

    (void)state;
    /* hvmctl log --monitor prints the monitor's log from the settings' log_dir */
    snprintf(path, sizeof(path), "%s/hvmctl-web1.log", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("[2026-11-23 19:52:49] monitoring domain 1 (web1)\n", f);
    fclose(f);
    run(&o, cmd_log, "log", "--monitor", "web1", NULL);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.out, "[2026-11-23 19:52:49] monitoring domain 1 (web1)\n");
    done(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_config_refused_before_xen),
        cmocka_unit_test(test_files_checked_before_xen),
        cmocka_unit_test(test_hvm_default_dm),
        cmocka_unit_test(test_monitor_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
