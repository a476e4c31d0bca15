/* SPDX-License-Identifier: GPL-2.0-only */
/* dm_restrict (dm/restrict.h, dm/xsbroker.h, QMP's -chardev fd=): libxl 4.17's dm_restrict
 * argv parses, bad users and missing chroot directories are refused naming the option, the
 * drop (chroot, user, groups) works in a child process and the seccomp filter still holds
 * after it, the xenstore broker's policy admits the domain's own nodes only, and QMP serves
 * a listening socket it is handed by descriptor (libxl__pre_open_qmp_socket) in prelaunch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/sys/gntdev.h>
#include "dm/config.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "dm/restrict.h"
#include "dm/sandbox.h"
#include "dm/xsbroker.h"
#include "tests/lib/capture.h"
#include "tests/lib/fakexen.h"

static int parse(struct config *cfg, const char *const *extra, int n, char *err, size_t errlen)
{
    const char *argv[32] = { "-xen-domid", "5", "-m", "64" };
    for (int i = 0; i < n; i++)
        argv[4 + i] = extra[i];
    return config_parse(cfg, 4 + n, argv, err, errlen);
}

/* what libxl_dm.c passes with dm_restrict=1 (after -net none; -runas last) */
static void test_libxl_dm_restrict_argv(void **state)
{
    char dir[] = "/tmp/hvmd-qemu-root-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *const extra[] = { "-S", "-net", "none", "-xen-domid-restrict", "-chroot", dir,
                                  "-runas", "131077:131072" };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(parse(&cfg, extra, 8, err, sizeof(err)), 0);
    assert_true(cfg.restrict_.domid_restrict);
    assert_string_equal(cfg.restrict_.chroot_dir, dir);
    assert_true(cfg.restrict_.runas);
    assert_int_equal(cfg.restrict_.uid, 131077);
    assert_int_equal(cfg.restrict_.gid, 131072);
    assert_true(cfg.start_stopped);
    assert_true(restrict_wanted(&cfg.restrict_));
    config_free(&cfg);
    /* the shared user is passed by name */
    const char *const byname[] = { "-runas", "nobody" };
    assert_int_equal(parse(&cfg, byname, 2, err, sizeof(err)), 0);
    assert_int_equal(cfg.restrict_.uid, 65534);
    config_free(&cfg);
    rmdir(dir);
}

static void test_refusals(void **state)
{
    static const struct {
        const char *opt, *arg, *expect;
    } cases[] = {
        { "-runas", "0:0", "-runas 0:0: is root" },
        { "-runas", "1000:0", "-runas 1000:0: is root" },
        { "-runas", "root", "-runas root: is root" },
        { "-runas", "hvmd-no-such-user", "-runas hvmd-no-such-user: no such user" },
        { "-runas", "12x:5", "-runas 12x:5: expected a user name or UID:GID" },
        { "-runas", "131072:", "-runas 131072:: expected a user name or UID:GID" },
        { "-runas", "99999999999:1", "expected a user name or UID:GID" },
        { "-runas", "", "-runas '': expected" },
        { "-chroot", "/nonexistent/qemu-root-5", "-chroot /nonexistent/qemu-root-5: No such file" },
        { "-chroot", "/etc/passwd", "-chroot /etc/passwd: not a directory" },
        { "-chroot", "var/run", "-chroot var/run: expected an absolute" },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *extra[] = { cases[i].opt, cases[i].arg };
        struct config cfg;
        char err[256] = "";
        assert_int_equal(parse(&cfg, extra, 2, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i].expect))
            fail_msg("%s %s: message \"%s\" lacks \"%s\"", cases[i].opt, cases[i].arg, err,
                     cases[i].expect);
        assert_null(cfg.strings);
    }
}

/* In a child: chroot into a fresh directory, become nobody, enter the real filter; what it
 * sees then, as exit codes. */
static void test_drop_under_the_filter(void **state)
{
    if (geteuid() != 0)
        skip(); /* chroot and setuid need root */
    char dir[] = "/tmp/hvmd-qemu-root-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char marker[64];
    snprintf(marker, sizeof(marker), "%s/inside", dir);
    int mfd = open(marker, O_CREAT | O_WRONLY, 0600);
    assert_true(mfd >= 0);
    close(mfd);
    struct stat dst;
    assert_int_equal(stat(dir, &dst), 0);
    assert_int_equal(chmod(dir, 0), 0); /* as libxl makes it */
    for (int kill_test = 0; kill_test < 2; kill_test++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[256];
            int p[2];
            if (pipe(p) < 0)
                _exit(10);
            struct restrict_plan plan = { .domid_restrict = 1, .chroot_dir = dir, .runas = 1,
                                          .uid = 65534, .gid = 65534 };
            if (restrict_enter(&plan, err, sizeof(err)) < 0)
                _exit(11);
            struct stat st;
            /* the root is the chroot, which the user cannot even look into */
            if (stat("/", &st) < 0 || st.st_ino != dst.st_ino || st.st_dev != dst.st_dev ||
                stat("/inside", &st) == 0 || errno != EACCES)
                _exit(12);
            uid_t r, e, s;
            gid_t gr, ge, gs, groups[4];
            if (getresuid(&r, &e, &s) < 0 || r != 65534 || e != 65534 || s != 65534)
                _exit(13);
            if (getresgid(&gr, &ge, &gs) < 0 || gr != 65534 || ge != 65534 || gs != 65534)
                _exit(14);
            if (getgroups(4, groups) != 1 || groups[0] != 65534)
                _exit(15);
            if (setuid(0) == 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                _exit(16);
            if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
                _exit(17);
            char b = 'x';
            if (write(p[1], &b, 1) != 1 || read(p[0], &b, 1) != 1) /* steady state */
                _exit(18);
            if (kill_test)
                open("/", O_RDONLY); /* the filter kills */
            _exit(0);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!kill_test) {
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                fail_msg("the dropped child failed: status %#x", st);
        } else {
            assert_true(WIFSIGNALED(st));
            assert_int_equal(WTERMSIG(st), SIGSYS);
        }
    }
    unlink(marker);
    rmdir(dir);
}

/* under dm_restrict the filter refuses hvmd's own grant maps and copies (the broker maps),
 * and still allows the unmap */
static void test_filter_without_grant_maps(void **state)
{
    for (int act = 0; act < 3; act++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char err[256];
            int p[2];
            if (pipe(p) < 0)
                _exit(10);
            sandbox_refuse_grant_maps();
            if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
                _exit(11);
            if (act == 0) /* unmap: allowed (a pipe says ENOTTY) */
                _exit(ioctl(p[0], IOCTL_GNTDEV_UNMAP_GRANT_REF, NULL) == -1 && errno == ENOTTY
                          ? 0 : 12);
            ioctl(p[0], act == 1 ? IOCTL_GNTDEV_MAP_GRANT_REF : IOCTL_GNTDEV_GRANT_COPY, NULL);
            _exit(13);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (act == 0) {
            assert_true(WIFEXITED(st));
            assert_int_equal(WEXITSTATUS(st), 0);
        } else {
            assert_true(WIFSIGNALED(st));
            assert_int_equal(WTERMSIG(st), SIGSYS);
        }
    }
}

/* the helpers' drops: the opener's (to the user), the cleaner's (uid 0, no capability) */
static void test_helper_drops(void **state)
{
    if (geteuid() != 0)
        skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (restrict_drop_caps() < 0)
            _exit(10);
        if (getuid() != 0 || prctl(PR_CAPBSET_READ, 21 /* CAP_SYS_ADMIN */, 0, 0, 0) != 0)
            _exit(11);
        if (chroot("/") == 0 || setuid(1) == 0) /* no CAP_SYS_CHROOT, no CAP_SETUID */
            _exit(12);
        /* what the cleaner needs stays: removing a socket in a root-owned directory (the
         * owner's access, no capability), as /var/run/xen/qmp-libxenstat-D */
        char dir[] = "/tmp/hvmd-run-xen-XXXXXX", sock[64];
        if (!mkdtemp(dir) || chmod(dir, 0700) < 0)
            _exit(13);
        snprintf(sock, sizeof(sock), "%s/qmp-libxenstat-5", dir);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, sock);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            _exit(14);
        if (unlink(sock) < 0 || rmdir(dir) < 0)
            _exit(15);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (restrict_drop_ids(65534, 65534) < 0)
            _exit(10);
        if (getuid() != 65534 || getgid() != 65534 || open("/etc/shadow", O_RDONLY) >= 0)
            _exit(11);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* libxl's 256 KiB RLIMIT_FSIZE: a disk image's blocks past it stay writable (the limit is
 * raised to the largest image open for writing, while root), and no further */
static void test_fsize_fits_the_images(void **state)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char path[] = "/tmp/hvmd-fsize-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
            _exit(10);
        unlink(path);
        if (ftruncate(fd, 1 << 20) < 0)
            _exit(11);
        /* libxl sets both limits to 256 KiB; raising the hard one needs CAP_SYS_RESOURCE,
         * which dom0's root has (the bed shows it: hvmd-cd-change) and a container may lack:
         * then only the soft one is lowered here, and the same code raises it */
        int cap = prctl(PR_CAPBSET_READ, 24 /* CAP_SYS_RESOURCE */, 0, 0, 0) == 1;
        struct rlimit rl = { 256 * 1024, cap ? 256 * 1024 : RLIM_INFINITY };
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(12);
        signal(SIGXFSZ, SIG_IGN);
        char b = 1;
        if (pwrite(fd, &b, 1, 900 * 1024) != -1 || errno != EFBIG) /* the kernel's rule */
            _exit(13);
        if (restrict_fit_fsize() != 1)
            _exit(14);
        if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur != 1 << 20 || rl.rlim_max != 1 << 20)
            _exit(18);
        if (pwrite(fd, &b, 1, 900 * 1024) != 1 || pwrite(fd, &b, 1, (1 << 20) - 1) != 1)
            _exit(15);
        if (pwrite(fd, &b, 1, 1 << 20) != -1 || errno != EFBIG) /* no growth past the image */
            _exit(16);
        if (restrict_fit_fsize() != 0)
            _exit(17);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("child status %#x", st);
}

static void test_broker_policy(void **state)
{
    static const struct {
        enum xsb_access a;
        const char *path;
        int ok;
    } cases[] = {
        { XSB_READ, "/local/domain/0/backend/vkbd/5/0/state", 1 },
        { XSB_WRITE, "/local/domain/0/backend/vkbd/5/0/state", 1 },
        { XSB_WRITE, "/local/domain/0/backend/qdisk/5", 1 },
        { XSB_WRITE, "/local/domain/0/backend/console/5/1/tty", 1 },
        { XSB_WRITE, "/local/domain/0/device-model/5/state", 1 },
        { XSB_WRITE, "/local/domain/0/device-model/5/backends/vkbd", 1 },
        { XSB_READ, "/local/domain/5/device/vkbd/0/page-ref", 1 },
        { XSB_WRITE, "/local/domain/5/device/console/1/tty", 1 },
        { XSB_READ, "/local/domain/5/control/shutdown", 1 },
        /* refused: other domains, dom0's own, the toolstack's */
        { XSB_WRITE, "/local/domain/5/control/shutdown", 0 },
        { XSB_WRITE, "/local/domain/5", 0 },
        { XSB_READ, "/local/domain/0/backend/vkbd/6/0/state", 0 },
        { XSB_READ, "/local/domain/0/backend/vkbd/55/0/state", 0 },
        { XSB_WRITE, "/local/domain/0/backend/vbd/50/768/params", 0 },
        { XSB_READ, "/local/domain/0/device-model/6/state", 0 },
        { XSB_READ, "/local/domain/0/device-model/55", 0 },
        { XSB_READ, "/local/domain/55/device", 0 },
        { XSB_READ, "/local/domain/6/device/vbd/768/ring-ref", 0 },
        { XSB_READ, "/local/domain/0/backend/5", 0 },
        { XSB_READ, "/local/domain/0/backend//5/0", 0 },
        { XSB_READ, "/local/domain/0/backend", 0 },
        { XSB_READ, "/local/domain/0", 0 },
        { XSB_READ, "/vm", 0 },
        { XSB_READ, "/libxl/5/dm-version", 0 },
        { XSB_WRITE, "/tool/xenstored/quota", 0 },
        { XSB_READ, "@releaseDomain", 0 },
        { XSB_READ, "local/domain/5/device", 0 },
        { XSB_READ, "/local/domain/5/../6/device", 0 },
        { XSB_READ, "/local/domain/0/device-model/5/", 0 },
        { XSB_READ, "", 0 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
        if (xsb_allowed(5, cases[i].a, cases[i].path) != cases[i].ok)
            fail_msg("%s %s: expected %s", cases[i].a == XSB_WRITE ? "write" : "read",
                     cases[i].path, cases[i].ok ? "allowed" : "refused");
    assert_false(xsb_allowed(5, XSB_READ, NULL));
}

/* the broker's parse of hvmd's messages: hvmd is the side not trusted */
static void test_broker_requests(void **state)
{
    char m[8192];
    struct xsb_parsed pr;
    const char *be = "/local/domain/0/backend/vkbd/5/0/state";
    size_t n = xsb_make_request(m, sizeof(m), 2 /* write */, 0, 0, be, "4", 1);
    assert_int_equal(xsb_check_request(5, m, n, &pr), 0);
    assert_string_equal(pr.path, be);
    assert_int_equal(pr.len2, 1);
    assert_memory_equal(pr.s2, "4", 1);
    /* every truncation of it is malformed, none is read past */
    for (size_t k = 0; k < n - 1; k++) {
        char *c = malloc(k ? k : 1);
        memcpy(c, m, k);
        int r = xsb_check_request(5, c, k, &pr);
        if (r != -EINVAL && !(r == 0 && k > 16 + strlen(be)))
            fail_msg("truncated to %zu: %d", k, r);
        free(c);
    }
    /* len1 says more or less than the path */
    uint32_t bad = (uint32_t)strlen(be) + 5;
    memcpy(m + 12, &bad, 4);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    bad = 3;
    memcpy(m + 12, &bad, 4);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    bad = 0xffffffffu;
    memcpy(m + 12, &bad, 4);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    /* unknown requests */
    n = xsb_make_request(m, sizeof(m), 0, 0, 0, be, NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    n = xsb_make_request(m, sizeof(m), 99, 0, 0, be, NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    /* another domain's nodes */
    n = xsb_make_request(m, sizeof(m), 2, 0, 0, "/local/domain/0/backend/vbd/6/768/params",
                         "/etc/shadow", 11);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EACCES);
    /* permissions: owner dom0, reader dom0 or the guest */
    n = xsb_make_request(m, sizeof(m), 5, 0, 5, be, NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), 0);
    n = xsb_make_request(m, sizeof(m), 5, 5, 0, be, NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EACCES);
    n = xsb_make_request(m, sizeof(m), 5, 0, 6, be, NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EACCES);
    /* watches: a token of 1-64 bytes, NUL-terminated */
    n = xsb_make_request(m, sizeof(m), 6, 0, 0, "/local/domain/0/backend/vkbd/5", "3", 2);
    assert_int_equal(xsb_check_request(5, m, n, &pr), 0);
    n = xsb_make_request(m, sizeof(m), 6, 0, 0, "/local/domain/0/backend/vkbd/5", "3", 1);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    n = xsb_make_request(m, sizeof(m), 6, 0, 0, "/local/domain/0/backend/vkbd/5", "3\0x", 3);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    n = xsb_make_request(m, sizeof(m), 6, 0, 0, "@releaseDomain", "3", 2);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EACCES);
    /* a value too long for xenstore */
    static char big[5000];
    memset(big, 'a', sizeof(big));
    n = xsb_make_request(m, sizeof(m), 2, 0, 0, be, big, sizeof(big));
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    assert_int_equal(xsb_check_request(5, m, 3, &pr), -EINVAL);
    /* grant maps: 1-1024 refs, exactly as many as it says, no path (the broker adds the
     * domain: hvmd cannot name another) */
    uint32_t refs[3] = { 8, 9, 10 };
    n = xsb_make_request(m, sizeof(m), 8, 3, 0, "", refs, sizeof(refs));
    assert_int_equal(xsb_check_request(5, m, n, &pr), 0);
    assert_int_equal(pr.owner, 3);
    n = xsb_make_request(m, sizeof(m), 8, 4, 0, "", refs, sizeof(refs));
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    n = xsb_make_request(m, sizeof(m), 8, 0, 0, "", NULL, 0);
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    n = xsb_make_request(m, sizeof(m), 8, 3, 0, "/local/domain/6", refs, sizeof(refs));
    assert_int_equal(xsb_check_request(5, m, n, &pr), -EINVAL);
    static uint32_t many[1025];
    n = xsb_make_request(m, sizeof(m), 8, 1025, 0, "", many, sizeof(many));
    assert_true(n == 0 || xsb_check_request(5, m, n, &pr) == -EINVAL);
}

static void op_nop(void *o) { (void)o; }
static const struct qmp_ops ops = { .stop = op_nop, .cont = op_nop, .quit = op_nop };

/* libxl__pre_open_qmp_socket: bound, listen(1), the descriptor passed as fd=N; with -S the
 * run state is prelaunch until cont, and hvmd never removes libxl's socket */
static void test_qmp_on_inherited_fd(void **state)
{
    char path[64], ch[128], fds[16];
    snprintf(path, sizeof(path), "/tmp/hvmd-qmp-fd-%d", getpid());
    unlink(path);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    snprintf(ch, sizeof(ch), "socket,id=libxl-cmd,fd=%d,server=on,wait=off", lfd);
    const char *extra[] = { "-chardev", ch, "-S", "-mon", "chardev=libxl-cmd,mode=control" };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(parse(&cfg, extra, 5, err, sizeof(err)), 0);
    struct fakexen *fx = fx_new(16 << 20);
    fx->vm.cfg = &cfg;
    fx->vm.running = 0;
    struct qmp *q = qmp_new(&fx->vm, &cfg, &ops, NULL, err, sizeof(err));
    if (!q)
        fail_msg("qmp_new: %s", err);
    int c = fx_unix_connect(path);
    assert_true(c >= 0);
    const char *req = "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n"
                      "{\"execute\":\"query-status\",\"id\":2}\r\n";
    assert_int_equal(write(c, req, strlen(req)), (ssize_t)strlen(req));
    char buf[4096];
    size_t n = 0;
    for (int t = 0; t < 200 && !strstr(buf, "\"id\":2"); t++) {
        loop_run_once(fx->loop, 5);
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (poll(&p, 1, 0) == 1) {
            ssize_t r = read(c, buf + n, sizeof(buf) - 1 - n);
            if (r > 0)
                n += (size_t)r;
        }
        buf[n] = 0;
    }
    if (!strstr(buf, "\"status\":\"prelaunch\""))
        fail_msg("query-status: %s", buf);
    close(c);
    qmp_free(q);
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* libxl's socket stays */
    assert_int_equal(fcntl(lfd, F_GETFD), -1); /* hvmd closed its descriptor */
    unlink(path);
    fx_free(fx);
    config_free(&cfg);

    /* refused: not a descriptor, not open, not a listening socket */
    static const char *const bad[] = { "fd=x", "fd=2", "fd=900", "fd=0" };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        snprintf(ch, sizeof(ch), "socket,id=libxl-cmd,%s,server=on,wait=off", bad[i]);
        assert_int_equal(parse(&cfg, extra, 5, err, sizeof(err)), 0);
        fx = fx_new(16 << 20);
        fx->vm.cfg = &cfg;
        assert_null(qmp_new(&fx->vm, &cfg, &ops, NULL, err, sizeof(err)));
        assert_non_null(strstr(err, "fd="));
        fx_free(fx);
        config_free(&cfg);
    }
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    snprintf(fds, sizeof(fds), "%d", pfd[0]);
    snprintf(ch, sizeof(ch), "socket,id=libxl-cmd,fd=%s,server=on,wait=off", fds);
    assert_int_equal(parse(&cfg, extra, 5, err, sizeof(err)), 0);
    fx = fx_new(16 << 20);
    fx->vm.cfg = &cfg;
    assert_null(qmp_new(&fx->vm, &cfg, &ops, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "not a listening socket"));
    fx_free(fx);
    config_free(&cfg);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libxl_dm_restrict_argv),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_drop_under_the_filter),
        cmocka_unit_test(test_helper_drops),
        cmocka_unit_test(test_filter_without_grant_maps),
        cmocka_unit_test(test_fsize_fits_the_images),
        cmocka_unit_test(test_broker_policy),
        cmocka_unit_test(test_broker_requests),
        cmocka_unit_test(test_qmp_on_inherited_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
