/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ts_migrate.c: the bytes hvmctl shares with xl around libxl's stream (toolstack/xl/image.c):
 * the saved-image header written and read back, every damaged header refused with its reason
 * (a peer or a file is hostile input), the migration handshake's messages byte for byte as xl
 * sends them (the banner without its NUL, the others with it), a peer that sends other bytes or
 * goes away, the receiver's command line; and `hvmctl migrate` / `migrate-receive` usage
 * errors before any talk to Xen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/xl/domains.h"
#include "toolstack/xl/image.h"

/* a pipe holding LEN bytes of P, its write end closed: the read end */
static int pipe_of(const void *p, size_t len)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    assert_true(len <= 65536);
    if (len)
        assert_int_equal(ts_write_all(fds[1], p, len), 0);
    close(fds[1]);
    return fds[0];
}

/* the header for JSON as bytes (len out) */
static char *header_bytes(const char *json, size_t *len)
{
    int fds[2];
    char *buf = malloc(65536);
    ssize_t n;

    assert_non_null(buf);
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(ts_image_write_header(fds[1], json), 0);
    close(fds[1]);
    n = read(fds[0], buf, 65536);
    close(fds[0]);
    assert_true(n > 0);
    *len = (size_t)n;
    return buf;
}

static void test_header_round_trip(void **state)
{
    const char *json = "{\"c_info\": {\"name\": \"sv\"}}";
    char *buf, *got = NULL, why[200] = "";
    size_t len;
    uint32_t u;
    int fd;

    (void)state;
    buf = header_bytes(json, &len);
    /* xl's layout: magic, byte order, mandatory (JSON | stream v2), optional, optional length,
     * config length, config with its NUL */
    assert_int_equal(len, 32 + 16 + 4 + strlen(json) + 1);
    assert_memory_equal(buf, "Xen saved domain, xl format\n \0 \r", 32);
    memcpy(&u, buf + 32, 4);
    assert_int_equal(u, 0x01020304);
    memcpy(&u, buf + 36, 4);
    assert_int_equal(u, 3);
    memcpy(&u, buf + 44, 4);
    assert_int_equal(u, 4 + strlen(json) + 1);
    fd = pipe_of(buf, len);
    assert_int_equal(ts_image_read_header(fd, &got, why, sizeof(why)), 0);
    assert_string_equal(got, json);
    close(fd);
    free(got);
    free(buf);
}

/* the header of "{}" with the u32 at OFF set to V: refused saying WANT */
static void refused_with(size_t off, uint32_t v, size_t cut, const char *want)
{
    char *buf, *got = (char *)1, why[200] = "";
    size_t len;
    int fd;

    buf = header_bytes("{}", &len);
    if (off != (size_t)-1)
        memcpy(buf + off, &v, 4);
    fd = pipe_of(buf, cut ? cut : len);
    assert_true(ts_image_read_header(fd, &got, why, sizeof(why)) < 0);
    assert_null(got);
    if (!strstr(why, want))
        fail_msg("why '%s' lacks '%s'", why, want);
    close(fd);
    free(buf);
}

static void test_header_refused(void **state)
{
    (void)state;
    refused_with(0, 0x20206e58, 0, "not a saved domain");          /* "Xn  " for "Xen " */
    refused_with(32, 0x04030201, 0, "another byte order");
    refused_with(36, 3 | 4, 0, "features this hvmctl lacks");
    refused_with(36, 1, 0, "old-format");                            /* stream v1 */
    refused_with(44, 0, 0, "damaged image");
    refused_with(44, 0xffffffffu, 0, "damaged image");
    refused_with(44, TS_IMAGE_CONFIG_MAX + 5, 0, "damaged image");
    refused_with(48, 0, 0, "configuration length 0");
    refused_with(48, 4, 0, "configuration length 4");                /* beyond the optional data */
    refused_with((size_t)-1, 0, 20, "not a saved domain");          /* cut in the magic */
    refused_with((size_t)-1, 0, 50, "truncated in its configuration");
    /* an empty stream (a sender that went away at once) */
    {
        char *got, why[200];
        int fd = pipe_of("", 0);
        assert_true(ts_image_read_header(fd, &got, why, sizeof(why)) < 0);
        assert_non_null(strstr(why, "not a saved domain"));
        close(fd);
    }
}

static void test_handshake_bytes(void **state)
{
    static const struct {
        enum ts_mig_msg m;
        const char *bytes;
        size_t len;
    } want[] = {
        { TS_MIG_BANNER, "xl migration receiver ready, send binary domain data.\n", 54 },
        { TS_MIG_READY, "domain received, ready to unpause", 34 },
        { TS_MIG_GO, "domain is yours, you are cleared to unpause", 44 },
        { TS_MIG_REPORT, "my copy unpause results are as follows", 39 },
    };
    char buf[128], why[200];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int fds[2];
        ssize_t n;

        assert_int_equal(pipe(fds), 0);
        assert_int_equal(ts_mig_send(fds[1], want[i].m), 0);
        close(fds[1]);
        n = read(fds[0], buf, sizeof(buf));
        close(fds[0]);
        assert_int_equal(n, (ssize_t)want[i].len);
        assert_memory_equal(buf, want[i].bytes, want[i].len);
        /* and read back, followed by what comes next (libxl's stream, a status byte) */
        memcpy(buf + n, "\001rest", 5);
        int fd = pipe_of(buf, (size_t)n + 5);
        assert_int_equal(ts_mig_expect(fd, want[i].m, why, sizeof(why)), 0);
        assert_int_equal(read(fd, buf, 1), 1);
        assert_int_equal(buf[0], 1);
        close(fd);
    }
}

static void test_handshake_refused(void **state)
{
    char why[200];
    int fd;

    (void)state;
    /* a receiver that is no xl/hvmctl receiver (ssh's motd, a shell error) */
    { static const char motd[] = "bash: xl: command not found\n........................................................";
      fd = pipe_of(motd, sizeof(motd) - 1); }
    assert_int_equal(ts_mig_expect(fd, TS_MIG_BANNER, why, sizeof(why)), -EPROTO);
    assert_non_null(strstr(why, "instead of the banner"));
    close(fd);
    /* the ready message without its NUL, then the end: the peer went away */
    fd = pipe_of("domain received, ready to unpause", 33);
    assert_int_equal(ts_mig_expect(fd, TS_MIG_READY, why, sizeof(why)), -ENODATA);
    assert_non_null(strstr(why, "ended before the ready message"));
    close(fd);
    fd = pipe_of("", 0);
    assert_int_equal(ts_mig_expect(fd, TS_MIG_REPORT, why, sizeof(why)), -ENODATA);
    close(fd);
    /* a go that is not one */
    fd = pipe_of("domain is yours, you are cleared to unpausE", 44);
    assert_int_equal(ts_mig_expect(fd, TS_MIG_GO, why, sizeof(why)), -EPROTO);
    close(fd);
}

static void test_rune(void **state)
{
    char *r;

    (void)state;
    r = ts_mig_rune(NULL, "host2", "hvmctl migrate-receive");
    assert_string_equal(r, "exec ssh host2 hvmctl migrate-receive");
    free(r);
    r = ts_mig_rune("ssh -p 2222", "root@host2", "xl migrate-receive");
    assert_string_equal(r, "exec ssh -p 2222 root@host2 xl migrate-receive");
    free(r);
    /* -s "": the host argument is the whole command (localhost migration) */
    r = ts_mig_rune("", "hvmctl migrate-receive -p", "ignored");
    assert_string_equal(r, "hvmctl migrate-receive -p");
    free(r);
}

/* run CMD with the arguments (NULL-terminated), stdout and stderr to /dev/null: its exit
 * status */
static int quietly(int (*cmd)(int, char **), ...)
{
    char *argv[8];
    int argc = 0, saved1 = dup(1), saved2 = dup(2), nul = open("/dev/null", O_WRONLY), rc;
    const char *a;
    va_list ap;

    va_start(ap, cmd);
    while (argc < 7 && (a = va_arg(ap, const char *)))
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    dup2(nul, 1);
    dup2(nul, 2);
    rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved1, 1);
    dup2(saved2, 2);
    close(saved1);
    close(saved2);
    close(nul);
    while (argc--)
        free(argv[argc]);
    return rc;
}

static void test_usage(void **state)
{
    (void)state;
    assert_int_equal(quietly(cmd_migrate, "migrate", NULL), 2);
    assert_int_equal(quietly(cmd_migrate, "migrate", "sv", NULL), 2);
    assert_int_equal(quietly(cmd_migrate, "migrate", "sv", "h", "x", NULL), 2);
    assert_int_equal(quietly(cmd_migrate, "migrate", "--bogus", "sv", "h", NULL), 2);
    assert_int_equal(quietly(cmd_migrate, "migrate", "sv", "", NULL), 2);
    assert_int_equal(quietly(cmd_migrate, "migrate", "--help", NULL), 0);
    assert_int_equal(quietly(cmd_migrate_receive, "migrate-receive", "extra", NULL), 2);
    assert_int_equal(quietly(cmd_migrate_receive, "migrate-receive", "-h", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_header_refused),
        cmocka_unit_test(test_handshake_bytes),
        cmocka_unit_test(test_handshake_refused),
        cmocka_unit_test(test_rune),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
