/* SPDX-License-Identifier: GPL-2.0-only */
/* dm_restrict's chroot and user drop (restrict.h). */
#include "dm/restrict.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dm/log.h"

static int fail(char *err, size_t errlen, const char *what, const char *arg, const char *why)
{
    snprintf(err, errlen, "%s %s: %s", what, arg, why);
    return -EINVAL;
}

static int parse_id(const char *s, size_t n, unsigned long *v)
{
    char buf[16];
    char *end;
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    errno = 0;
    *v = strtoul(buf, &end, 10);
    return errno || *end || *v >= (unsigned long)UINT_MAX ? -1 : 0;
}

int restrict_parse_runas(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    if (!*spec)
        return fail(err, errlen, "-runas", "''", "expected a user name or UID:GID");
    if (colon) {
        unsigned long u, g;
        if (parse_id(spec, (size_t)(colon - spec), &u) < 0 ||
            parse_id(colon + 1, strlen(colon + 1), &g) < 0)
            return fail(err, errlen, "-runas", spec, "expected a user name or UID:GID (numbers)");
        *uid = (uid_t)u;
        *gid = (gid_t)g;
    } else {
        errno = 0;
        struct passwd *pw = getpwnam(spec);
        if (!pw)
            return fail(err, errlen, "-runas", spec,
                        errno ? strerror(errno) : "no such user in the password database");
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    }
    if (*uid == 0 || *gid == 0)
        return fail(err, errlen, "-runas", spec,
                    "is root (uid or gid 0): dm_restrict needs an unprivileged user");
    return 0;
}

int restrict_check_chroot(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (!*dir || dir[0] != '/')
        return fail(err, errlen, "-chroot", dir, "expected an absolute directory path");
    if (stat(dir, &st) < 0)
        return fail(err, errlen, "-chroot", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, errlen, "-chroot", dir, "not a directory");
    return 0;
}

int restrict_drop_ids(uid_t uid, gid_t gid)
{
    if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
        return -errno;
    /* root cannot be had back */
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
        return -EPERM;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return 0;
}

int restrict_drop_caps(void)
{
    for (int c = 0; c <= 63; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return -errno;
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    if (syscall(SYS_capset, &h, d) < 0)
        return -errno;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    return 0;
}

/* The largest regular file open for writing (the guest's disk images), or 0. */
static unsigned long long largest_writable_file(void)
{
    unsigned long long max = 0;
    for (int fd = 0; fd < 4096; fd++) {
        struct stat st;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((unsigned long long)st.st_size > max)
            max = (unsigned long long)st.st_size;
    }
    return max;
}

int restrict_fit_fsize(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    unsigned long long want = largest_writable_file();
    if (want <= rl.rlim_cur)
        return 0;
    /* the kernel checks the write's position, not the file's growth: a disk image's block
     * past 256 KiB would fail with EFBIG. Up to the largest image: no file can grow beyond
     * what the guest's disks already take (the log included) */
    rl.rlim_cur = rl.rlim_max = (rlim_t)want;
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
        return -errno;
    log_info("dm_restrict: file size limit raised to %llu bytes (the largest disk image: the "
             "kernel applies it to every write position)", want);
    return 1;
}

int restrict_enter(const struct restrict_plan *p, char *err, size_t errlen)
{
    if (!restrict_wanted(p))
        return 0;
    /* libxl's RLIMIT_FSIZE (256 KiB) would kill hvmd at the first write past it (its log on
     * fd 1/2): a write that would cross it fails with EFBIG instead */
    signal(SIGXFSZ, SIG_IGN);
    int fr = restrict_fit_fsize();
    if (fr < 0) {
        snprintf(err, errlen, "dm_restrict: raising the file size limit to the disk images' "
                 "size: %s", strerror(-fr));
        return fr;
    }
    if (p->chroot_dir) {
        if (chroot(p->chroot_dir) < 0 || chdir("/") < 0) {
            int e = errno;
            snprintf(err, errlen, "dm_restrict: chroot %s: %s", p->chroot_dir, strerror(e));
            return -e;
        }
    }
    if (p->runas) {
        int r = restrict_drop_ids(p->uid, p->gid);
        if (r < 0) {
            snprintf(err, errlen, "dm_restrict: becoming uid %u gid %u: %s", (unsigned)p->uid,
                     (unsigned)p->gid, strerror(-r));
            return r;
        }
    }
    log_info("dm_restrict:%s%s%s%s", p->domid_restrict ? " Xen handles restricted to the domain;" : "",
             p->chroot_dir ? " chroot " : "", p->chroot_dir ? p->chroot_dir : "",
             p->runas ? ";" : "");
    if (p->runas)
        log_info("dm_restrict: running as uid %u gid %u, no supplementary groups",
                 (unsigned)p->uid, (unsigned)p->gid);
    return 0;
}
