/* The sandbox (see sandbox.h): PR_SET_NO_NEW_PRIVS and a libseccomp allow-list, applied to
 * every thread (libxenstore may have started its reader thread). The list is what hvmd's
 * steady state and shutdown were seen to need in the boot scenarios (ISO boot, CD change with
 * QMP add-fd, direct kernel boot, pause, poweroff, SIGKILL), run with -sandbox log: what the
 * filter logged there (socket and connect for xenstore, preadv2/pwritev2 and eventfd2 for the
 * block layer, unlink at exit) is in the list. */
#include "dm/sandbox.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "dm/log.h"
#include "dm/util.h"

static const char *const allowed[] = {
    /* the loop: epoll, timers, the signalfd, eventfds (libaio completions) */
    "epoll_wait", "epoll_pwait", "epoll_ctl", "timerfd_settime", "timerfd_gettime",
    "timerfd_create", "poll", "ppoll",
    /* file descriptors already open: event channels, privcmd, images, ptys, QMP, xenstore */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
    "preadv2", "pwritev2", "eventfd2",
    "close", "fcntl", "fstat", "newfstatat", "lseek", "dup", "fdatasync", "fsync",
    "ioctl",            /* privcmd hypercalls and mmap batches, evtchn, gntdev, pty ioctls */
    /* QMP: accept a connection, file descriptors with SCM_RIGHTS (add-fd) */
    "accept", "accept4", "recvmsg", "sendmsg", "recvfrom", "sendto", "shutdown", "getsockopt",
    "connect",          /* xenstored's unix socket (socket() itself: AF_UNIX only, below) */
    "unlink",           /* the QMP sockets at exit (nothing can be opened by path, though) */
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

unsigned sandbox_allowed_count(void)
{
    return (unsigned)ARRAY_SIZE(allowed);
}

int sandbox_enter(enum sandbox_mode m, char *err, size_t errlen)
{
    scmp_filter_ctx ctx = NULL;
    int r;

    if (m == SANDBOX_OFF)
        return 0;
    tzset(); /* the log's local time: /etc/localtime is read now, not after */
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
    /* local sockets only (a new xenstore connection): no network */
    r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                         SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (r < 0) {
        snprintf(err, errlen, "sandbox: socket rule: %s", strerror(-r));
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
    log_info("sandbox %s: no new privileges, %u system calls allowed", sandbox_mode_name(m),
             sandbox_allowed_count() + 2);
    return 0;
fail:
    seccomp_release(ctx);
    return r < 0 ? r : -EINVAL;
}
