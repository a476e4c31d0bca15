/* SPDX-License-Identifier: GPL-2.0-only */
/* The sandbox (see sandbox.h): PR_SET_NO_NEW_PRIVS and a libseccomp allow-list, applied to
 * every thread (libxenstore may have started its reader thread). The list is what hvmd's
 * steady state and shutdown were seen to need in the boot scenarios (ISO boot, CD change with
 * QMP add-fd, direct kernel boot, pause, poweroff, SIGKILL), run with -sandbox log: what the
 * filter logged there (preadv2/pwritev2 and eventfd2 for the block layer) is in the list.
 * What it logged and is not in the list, because hvmd no longer needs it after the filter:
 * socket and connect (the xenstore connection is made before, and kept: xs.c), unlink (the
 * QMP sockets: the cleaner process below removes them; unlink itself gets EPERM). ioctl is
 * allowed for the request numbers hvmd's libraries make, and no other. */
#include "dm/sandbox.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <limits.h>
#include <linux/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dm/log.h"
#include "dm/restrict.h"
#include "dm/util.h"

static const struct restrict_plan *helpers_plan;

void sandbox_helpers_restrict(const struct restrict_plan *p)
{
    helpers_plan = p;
}

static int no_grant_maps;

void sandbox_refuse_grant_maps(void)
{
    no_grant_maps = 1;
}

static const char *const allowed[] = {
    /* the loop: epoll, timers, the signalfd, eventfds (libaio completions) */
    "epoll_wait", "epoll_pwait", "epoll_ctl", "timerfd_settime", "timerfd_gettime",
    "timerfd_create", "poll", "ppoll",
    /* file descriptors already open: event channels, privcmd, images, ptys, QMP, xenstore */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "eventfd2",
    "close", "fcntl", "fstat", "newfstatat", "lseek", "dup", "fdatasync", "fsync",
    "fallocate", /* qdisk's discard: a hole punched in the image (dm/block.c) */
    "ftruncate", /* QMP xen-save-devices-state: libxl's file, opened without O_TRUNC */
    /* (ioctl: only the requests in ioctls[] below) */
    /* QMP: accept a connection, file descriptors with SCM_RIGHTS (add-fd); xenstore's
     * connection, made before the filter */
    "accept", "accept4", "recvmsg", "sendmsg", "recvfrom", "sendto", "shutdown", "getsockopt",
    /* the VNC server (libvncserver): a client's address for the log, and its waits inside a
     * message (rfbCheckFds, rfbReadExact, rfbWriteExact); setsockopt below, TCP_NODELAY only */
    "getpeername", "pselect6", "select",
    /* asynchronous block I/O */
    "io_setup", "io_destroy", "io_submit", "io_getevents", "io_pgetevents", "io_cancel",
    /* memory: malloc, the map cache (foreign mappings of privcmd) */
    "mmap", "munmap", "mremap", "mprotect", "madvise", "brk",
    /* time, identity, signals */
    "clock_gettime", "gettimeofday", "nanosleep", "clock_nanosleep", "getpid", "gettid",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "tgkill",
    /* threads (libxenstore's reader): clone is checked below, clone3 says ENOSYS */
    "futex", "set_robust_list", "rseq", "sched_yield", "exit", "exit_group",
};

/* The ioctl requests hvmd makes once sandboxed, through Xen's libraries (4.17, Linux), the
 * block layer and the C library; numbers from Linux's include/uapi/xen/{privcmd,evtchn}.h
 * (_IOC(_IOC_NONE, type, nr, size of the argument struct on x86_64)). Not here:
 * IOCTL_PRIVCMD_HYPERCALL (any hypercall at all: libxendevicemodel uses it only on kernels
 * without DM_OP, before Linux 4.11), MMAP_RESOURCE (set-up only), the other gntdev requests
 * (SET_MAX_GRANTS, unmap notifications, dma-bufs: not made), and every other request. */
static const struct {
    unsigned long req;
    const char *name;
} ioctls[] = {
    { _IOC(_IOC_NONE, 'P', 5, 16), "IOCTL_PRIVCMD_DM_OP" },          /* every xendevicemodel op */
    { _IOC(_IOC_NONE, 'P', 4, 32), "IOCTL_PRIVCMD_MMAPBATCH_V2" },   /* xenforeignmemory_map */
    { _IOC(_IOC_NONE, 'P', 3, 24), "IOCTL_PRIVCMD_MMAPBATCH" },      /* ... its fallback */
    { _IOC(_IOC_NONE, 'E', 4, 4), "IOCTL_EVTCHN_NOTIFY" },           /* answering a request */
    { _IOC(_IOC_NONE, 'E', 3, 4), "IOCTL_EVTCHN_UNBIND" },           /* at exit */
    /* PV backends (pvdrivers/): a frontend connects, and disconnects, at any time */
    { _IOC(_IOC_NONE, 'E', 1, 8), "IOCTL_EVTCHN_BIND_INTERDOMAIN" }, /* its event channel */
    { _IOC(_IOC_NONE, 'G', 0, 24), "IOCTL_GNTDEV_MAP_GRANT_REF" },   /* its ring pages */
    { _IOC(_IOC_NONE, 'G', 1, 16), "IOCTL_GNTDEV_UNMAP_GRANT_REF" },
    { _IOC(_IOC_NONE, 'G', 2, 24), "IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR" }, /* xengnttab_unmap */
    { _IOC(_IOC_NONE, 'G', 8, 16), "IOCTL_GNTDEV_GRANT_COPY" },      /* data to and from it */
    { TCGETS, "TCGETS" },               /* isatty, tcgetattr (stdio, ptys) */
    { BLKGETSIZE64, "BLKGETSIZE64" },   /* a block device taken by QMP add-fd + change-medium */
    { BLKDISCARD, "BLKDISCARD" },       /* qdisk's discard on a block device (dm/block.c) */
};

unsigned sandbox_ioctl_count(void)
{
    return (unsigned)ARRAY_SIZE(ioctls);
}

unsigned long sandbox_ioctl_request(unsigned i)
{
    return i < ARRAY_SIZE(ioctls) ? ioctls[i].req : 0;
}

int sandbox_mode_parse(const char *s)
{
    size_t n = strcspn(s, ",");

    if (n == 2 && !strncmp(s, "on", 2))
        return SANDBOX_ON;
    if (n == 3 && !strncmp(s, "off", 3))
        return SANDBOX_OFF;
    if (n == 3 && !strncmp(s, "log", 3))
        return SANDBOX_LOG;
    return -1;
}

const char *sandbox_mode_name(enum sandbox_mode m)
{
    return m == SANDBOX_OFF ? "off" : m == SANDBOX_LOG ? "log" : "on";
}

/* the filter is the process's, as this flag (a fork inherits both) */
static enum sandbox_mode entered = SANDBOX_OFF;

enum sandbox_mode sandbox_current(void)
{
    return entered;
}

unsigned sandbox_allowed_count(void)
{
    return (unsigned)ARRAY_SIZE(allowed);
}

void sandbox_preload(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    tzset(); /* the log's local time: /etc/localtime is read now, not after */
    /* glibc loads libgcc_s (its unwinder) on the first pthread_cancel: libxenstore's
     * xs_close cancels the reader thread its watches started, at every exit with a PV
     * backend. Loaded now, glibc finds it loaded then instead of opening it. */
    if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
        log_warn("sandbox: cannot load libgcc_s.so.1 (%s): a thread cancelled later dies",
                 dlerror());
}

int sandbox_enter(enum sandbox_mode m, char *err, size_t errlen)
{
    scmp_filter_ctx ctx = NULL;
    int r;

    if (m == SANDBOX_OFF)
        return 0;
    sandbox_preload();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        r = -errno;
        snprintf(err, errlen, "sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return r;
    }
    ctx = seccomp_init(m == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
    if (!ctx) {
        snprintf(err, errlen, "sandbox: seccomp_init failed");
        return -ENOMEM;
    }
    r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r < 0) {
        snprintf(err, errlen, "sandbox: cannot apply the filter to every thread: %s",
                 strerror(-r));
        goto fail;
    }
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not on this architecture */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        if (r < 0) {
            snprintf(err, errlen, "sandbox: allowing %s: %s", allowed[i], strerror(-r));
            goto fail;
        }
    }
    /* ioctl: the requests above (the kernel takes the request as 32 bits: compare those) */
    unsigned n_ioctls = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ioctls); i++) {
        if (no_grant_maps && (!strcmp(ioctls[i].name, "IOCTL_GNTDEV_MAP_GRANT_REF") ||
                              !strcmp(ioctls[i].name, "IOCTL_GNTDEV_GRANT_COPY")))
            continue; /* dm_restrict: the broker maps (xsbroker.h) */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i].req));
        if (r < 0) {
            snprintf(err, errlen, "sandbox: allowing ioctl %s: %s", ioctls[i].name, strerror(-r));
            goto fail;
        }
        n_ioctls++;
    }
    /* setsockopt: only TCP_NODELAY on a VNC client's socket */
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
                         SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP), SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY));
    if (r < 0) {
        snprintf(err, errlen, "sandbox: setsockopt rule: %s", strerror(-r));
        goto fail;
    }
    /* unlink: refused without a kill (qmp_free still tries at exit; the cleaner removes the
     * sockets) */
    r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unlink), 0);
    if (r < 0) {
        snprintf(err, errlen, "sandbox: unlink rule: %s", strerror(-r));
        goto fail;
    }
    /* threads only: a clone without CLONE_THREAD would be a new process */
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    /* clone3 takes its flags in memory, out of the filter's sight: glibc falls back to clone */
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (r < 0) {
        snprintf(err, errlen, "sandbox: thread rules: %s", strerror(-r));
        goto fail;
    }
    r = seccomp_load(ctx);
    if (r < 0) {
        snprintf(err, errlen, "sandbox: loading the filter: %s", strerror(-r));
        goto fail;
    }
    seccomp_release(ctx);
    entered = m;
    log_info("sandbox %s: no new privileges, %u system calls allowed (ioctl with %u requests%s)",
             sandbox_mode_name(m), sandbox_allowed_count() + 3, n_ioctls,
             no_grant_maps ? "; grants are mapped by the broker" : "");
    return 0;
fail:
    seccomp_release(ctx);
    return r < 0 ? r : -EINVAL;
}

/* The cleaner: a child that holds the read end of a pipe whose write end only hvmd holds, and
 * nothing else (every other descriptor closed: no Xen handle, no image, no guest memory). When
 * hvmd is gone, however it ended, the read returns end-of-file and the cleaner removes each
 * path that is still the socket it saw when it started (same device and inode: a socket a new
 * device model made there since is left alone). It makes no other system call of interest,
 * takes no input (what hvmd could write is ignored) and ignores the signals that end hvmd. */
static void cleaner(int rfd, const char *const *paths, const struct stat *seen, unsigned n)
{
    static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE };
    char buf[64];
    ssize_t r;

    for (unsigned i = 0; i < ARRAY_SIZE(sigs); i++)
        signal(sigs[i], SIG_IGN);
    prctl(PR_SET_NAME, "hvmd-cleaner", 0, 0, 0);
    if (helpers_plan && helpers_plan->runas && restrict_drop_caps() < 0)
        _exit(1);
    if (rfd != 3) {
        if (dup2(rfd, 3) < 0)
            _exit(1);
        rfd = 3;
    }
    for (int fd = 0; fd < 3; fd++)
        close(fd);
    if (close_range(4, ~0u, 0) < 0)
        for (int fd = 4; fd < 65536; fd++)
            close(fd);
    while ((r = read(rfd, buf, sizeof(buf))) != 0)
        if (r < 0 && errno != EINTR)
            break;
    for (unsigned i = 0; i < n; i++) {
        struct stat st;
        if (lstat(paths[i], &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == seen[i].st_dev &&
            st.st_ino == seen[i].st_ino)
            unlink(paths[i]);
    }
    _exit(0);
}

int sandbox_remove_at_exit(const char *const *paths, unsigned n, char *err, size_t errlen)
{
    struct stat seen[SANDBOX_MAX_PATHS];
    int p[2];

    if (n > SANDBOX_MAX_PATHS) {
        snprintf(err, errlen, "sandbox: at most %d sockets to remove at exit", SANDBOX_MAX_PATHS);
        return -E2BIG;
    }
    for (unsigned i = 0; i < n; i++) {
        if (lstat(paths[i], &seen[i]) < 0 || !S_ISSOCK(seen[i].st_mode)) {
            snprintf(err, errlen, "sandbox: %s is not a socket hvmd made", paths[i]);
            return -EINVAL;
        }
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "sandbox: pipe: %s", strerror(errno));
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        snprintf(err, errlen, "sandbox: starting the cleaner: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        close(p[1]);
        cleaner(p[0], paths, seen, n);
    }
    close(p[0]);
    return p[1]; /* held until the process ends: never written, closed by the kernel */
}

/* ---- the opener (sandbox.h) ---- */

static int opener_fd = -1; /* process-wide, like the filter itself */

/* Open PATH for writing under the rule of sandbox.h: 0+ descriptor or a negative errno. */
static int open_output(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST)
        return fd >= 0 ? fd : -errno;
    fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    unsigned char head[8] = { 0 };
    ssize_t n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = pread(fd, head, sizeof(head), 0);
    int ok = S_ISREG(st.st_mode) &&
             (st.st_size == 0 || (n >= 2 && head[0] == 'P' && head[1] == '6') ||
              (n == 8 && !memcmp(head, "\x89PNG\r\n\x1a\n", 8)));
    if (!ok || ftruncate(fd, 0) < 0) {
        close(fd);
        return -EEXIST;
    }
    return fd;
}

static void opener(int sock)
{
    static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE };
    char path[PATH_MAX + 1];
    for (unsigned i = 0; i < ARRAY_SIZE(sigs); i++)
        signal(sigs[i], SIG_IGN);
    prctl(PR_SET_NAME, "hvmd-opener", 0, 0, 0);
    if (helpers_plan && helpers_plan->runas &&
        restrict_drop_ids(helpers_plan->uid, helpers_plan->gid) < 0)
        _exit(1);
    for (;;) {
        ssize_t n = recv(sock, path, PATH_MAX, 0);
        if (n <= 0)
            _exit(0);
        path[n] = 0;
        int fd = strlen(path) == (size_t)n ? open_output(path) : -EINVAL;
        int32_t rc = fd < 0 ? fd : 0;
        struct iovec iov = { &rc, sizeof(rc) };
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
            memset(&u, 0, sizeof(u));
            m.msg_control = u.b;
            m.msg_controllen = sizeof(u.b);
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
        if (fd >= 0)
            close(fd);
        if (w < 0)
            _exit(0);
    }
}

int sandbox_opener_start(char *err, size_t errlen)
{
    int sv[2];
    if (opener_fd >= 0)
        return 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "sandbox: opener socket: %s", strerror(errno));
        return -errno;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        snprintf(err, errlen, "sandbox: starting the opener: %s", strerror(e));
        return -e;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        if (sv[1] != 3 && dup2(sv[1], 3) < 0)
            _exit(1);
        if (close_range(4, ~0u, 0) < 0)
            for (int fd = 4; fd < 65536; fd++)
                close(fd);
        opener(3);
    }
    close(sv[1]);
    opener_fd = sv[0];
    return 0;
}

int sandbox_open_output(const char *path)
{
    if (!path || !*path || strlen(path) > PATH_MAX)
        return -EINVAL;
    if (opener_fd < 0)
        return open_output(path);
    if (send(opener_fd, path, strlen(path), MSG_NOSIGNAL) < 0)
        return -errno;
    int32_t rc = -EIO;
    struct iovec iov = { &rc, sizeof(rc) };
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof(u.b) };
    ssize_t n = recvmsg(opener_fd, &m, MSG_CMSG_CLOEXEC);
    if (n != (ssize_t)sizeof(rc))
        return -EIO;
    if (rc < 0)
        return rc;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -EIO;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}
