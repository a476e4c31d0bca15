/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * saverestore.c: `hvmctl save DOM FILE` and `hvmctl restore FILE` through libxl
 * (libxl_domain_suspend, libxl_domain_create_restore), in xl's saved-image format, so an image
 * either tool wrote restores with the other:
 *   32 bytes  "Xen saved domain, xl format\n \0 \r"
 *   u32       0x01020304 (byte order), u32 mandatory flags (JSON config, stream v2),
 *   u32       optional flags (0), u32 length of the optional data
 *   optional  u32 config length, the domain's configuration as libxl JSON (NUL-terminated)
 *   then      libxl's stream (memory, then the device model's state as its emulator record)
 * Progress: the memory stream's (libxc's "Saving memory" / "Restoring") on stderr.
 * Nothing half-done: a save that fails leaves the guest running (libxl_domain_resume) and
 * removes the file; a restore that fails leaves no domain (libxl destroys what it built).
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[32] = "Xen saved domain, xl format\n \0 \r";
#define BYTEORDER 0x01020304u
#define FLAG_JSON (1u << 0)
#define FLAG_STREAMV2 (1u << 1)
#define CONFIG_MAX (16u << 20)

struct hdr {
    char magic[32];
    uint32_t byteorder, mandatory, optional, optional_len;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ENODATA;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* libxc's progress lines on stderr, libxl's errors too */
static int open_xl(struct ts_xl *x, int verbose)
{
    int rc = ts_xl_open(x, NULL, verbose);
    if (rc < 0)
        return rc;
    xtl_stdiostream_adjust_flags(x->log, 0, XTL_STDIOSTREAM_HIDE_PROGRESS);
    if (!verbose)
        xtl_stdiostream_set_minlevel(x->log, XTL_PROGRESS);
    return 0;
}

/* ---- save ---- */

int cmd_save(int argc, char **argv)
{
    static const struct option opts[] = {
        { "checkpoint", no_argument, NULL, 'c' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *usage =
        "usage: hvmctl save [-c] [-v] DOM FILE\n"
        "Save the guest's memory and device state into FILE (xl's format: `xl restore` and\n"
        "`hvmctl restore` read it) and end the guest.\n"
        "  -c   checkpoint: the guest runs on after the save\n"
        "  -v   libxl's messages too\n";
    bool checkpoint = false;
    int verbose = 0, c, rc, fd = -1, status = 1;
    struct ts_xl x = { 0 };
    libxl_domain_config dc;
    char *json = NULL;
    uint32_t domid;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+cvh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': checkpoint = true; break;
        case 'v': verbose++; break;
        case 'h': return ts_usage(usage, 0);
        default: return ts_usage(usage, 2);
        }
    }
    if (argc - optind != 2)
        return ts_usage(usage, 2);
    const char *dom = argv[optind], *file = argv[optind + 1];
    libxl_domain_config_init(&dc);
    if (open_xl(&x, verbose) < 0)
        goto out;
    if (ts_find_domain(&x, dom, &domid) < 0)
        goto out;
    rc = libxl_retrieve_domain_configuration(x.ctx, domid, &dc, NULL);
    if (rc) {
        ts_err("save %s: cannot retrieve its configuration (%s)", dom, ts_libxl_strerror(rc));
        goto out;
    }
    json = libxl_domain_config_to_json(x.ctx, &dc);
    if (!json) {
        ts_err("save %s: cannot write its configuration as JSON", dom);
        goto out;
    }
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        ts_err("save %s: cannot create %s: %s", dom, file, strerror(errno));
        goto out;
    }
    uint32_t clen = (uint32_t)strlen(json) + 1;
    struct hdr h;
    memcpy(h.magic, magic, sizeof(h.magic));
    h.byteorder = BYTEORDER;
    h.mandatory = FLAG_JSON | FLAG_STREAMV2;
    h.optional = 0;
    h.optional_len = 4 + clen;
    if (write_all(fd, &h, sizeof(h)) < 0 || write_all(fd, &clen, 4) < 0 ||
        write_all(fd, json, clen) < 0) {
        ts_err("save %s: writing %s: %s", dom, file, strerror(errno));
        goto fail;
    }
    ts_info("saving domain %u (%s) to %s", domid, dom, file);
    rc = libxl_domain_suspend(x.ctx, domid, fd, 0, NULL);
    if (rc) {
        ts_err("save %s: the save failed (%s); the guest runs on (see hvmctl log %s)", dom,
               ts_libxl_strerror(rc), dom);
        libxl_domain_resume(x.ctx, domid, 1, NULL);
        goto fail;
    }
    if (fsync(fd) < 0 && errno != EINVAL) {
        ts_err("save %s: %s: %s; the guest runs on", dom, file, strerror(errno));
        libxl_domain_resume(x.ctx, domid, 1, NULL);
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) == 0)
        ts_info("saved %s: %lld MiB", file, (long long)st.st_size >> 20);
    if (checkpoint) {
        rc = libxl_domain_resume(x.ctx, domid, 1, NULL);
        if (rc) {
            ts_err("save %s: saved, but the guest did not resume (%s)", dom,
                   ts_libxl_strerror(rc));
            goto out;
        }
    } else {
        libxl_domain_destroy(x.ctx, domid, NULL);
    }
    status = 0;
    goto out;
fail:
    unlink(file);
out:
    if (fd >= 0)
        close(fd);
    free(json);
    libxl_domain_config_dispose(&dc);
    ts_xl_close(&x);
    return status;
}

/* ---- restore ---- */

/* Read FILE's header and configuration into DC; the descriptor at the start of libxl's
 * stream, or a negative errno (said). */
static int open_image(struct ts_xl *x, const char *file, libxl_domain_config *dc)
{
    struct hdr h;
    uint32_t clen;
    char *json = NULL, *opt = NULL;
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) {
        rc = -errno;
        ts_err("restore: cannot open %s: %s", file, strerror(errno));
        return rc;
    }
    rc = read_all(fd, &h, sizeof(h));
    if (rc < 0 || memcmp(h.magic, magic, sizeof(magic))) {
        ts_err("restore: %s is not a saved domain (no xl saved-image header)", file);
        goto bad;
    }
    if (h.byteorder != BYTEORDER) {
        ts_err("restore: %s was saved on a host of another byte order", file);
        goto bad;
    }
    if (h.mandatory & ~(FLAG_JSON | FLAG_STREAMV2)) {
        ts_err("restore: %s needs features this hvmctl lacks (flags %#x)", file, h.mandatory);
        goto bad;
    }
    if (!(h.mandatory & FLAG_JSON) || !(h.mandatory & FLAG_STREAMV2)) {
        ts_err("restore: %s is an old-format image (no JSON configuration or stream v1)", file);
        goto bad;
    }
    if (h.optional_len < 4 || h.optional_len > CONFIG_MAX + 4) {
        ts_err("restore: %s: configuration of %u bytes: damaged image", file, h.optional_len);
        goto bad;
    }
    opt = malloc(h.optional_len + 1);
    if (!opt || read_all(fd, opt, h.optional_len) < 0) {
        ts_err("restore: %s: truncated in its configuration", file);
        goto bad;
    }
    memcpy(&clen, opt, 4);
    if (clen < 1 || clen > h.optional_len - 4) {
        ts_err("restore: %s: configuration length %u: damaged image", file, clen);
        goto bad;
    }
    json = opt + 4;
    json[clen - 1] = '\0';
    rc = libxl_domain_config_from_json(x->ctx, dc, json);
    if (rc) {
        ts_err("restore: %s: its configuration does not parse (%s)", file,
               ts_libxl_strerror(rc));
        goto bad;
    }
    free(opt);
    return fd;
bad:
    free(opt);
    close(fd);
    return -EINVAL;
}

int cmd_restore(int argc, char **argv)
{
    static const struct option opts[] = {
        { "paused", no_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *usage =
        "usage: hvmctl restore [-p] [-v] FILE\n"
        "Build the guest FILE holds (hvmctl save or xl save wrote it) and run it where it was.\n"
        "No monitor process stays with it (as hvmctl create's): its on_poweroff / on_reboot\n"
        "actions are not carried out; hvmctl destroy removes a guest that shut down.\n"
        "  -p   leave it paused (hvmctl unpause runs it)\n"
        "  -v   libxl's messages too\n";
    bool paused = false;
    int verbose = 0, c, rc, fd, status = 1;
    struct ts_xl x = { 0 };
    libxl_domain_config dc;
    libxl_domain_restore_params params;
    uint32_t domid = INVALID_DOMID;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+pvh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': paused = true; break;
        case 'v': verbose++; break;
        case 'h': return ts_usage(usage, 0);
        default: return ts_usage(usage, 2);
        }
    }
    if (argc - optind != 1)
        return ts_usage(usage, 2);
    const char *file = argv[optind];
    /* a file that is no saved image is refused before Xen is asked anything */
    struct hdr h;
    int pre = open(file, O_RDONLY | O_CLOEXEC);
    if (pre < 0) {
        ts_err("restore: cannot open %s: %s", file, strerror(errno));
        return 1;
    }
    rc = read_all(pre, &h, sizeof(h));
    close(pre);
    if (rc < 0 || memcmp(h.magic, magic, sizeof(magic))) {
        ts_err("restore: %s is not a saved domain (no xl saved-image header)", file);
        return 1;
    }
    libxl_domain_config_init(&dc);
    libxl_domain_restore_params_init(&params);
    if (open_xl(&x, verbose) < 0)
        goto out;
    fd = open_image(&x, file, &dc);
    if (fd < 0)
        goto out;
    uint32_t other;
    if (dc.c_info.name && !libxl_name_to_domid(x.ctx, dc.c_info.name, &other)) {
        ts_err("restore: a domain named '%s' exists already (id %u)", dc.c_info.name, other);
        close(fd);
        goto out;
    }
    params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
    params.stream_version = 2;
    ts_info("restoring %s from %s", dc.c_info.name ? dc.c_info.name : "the domain", file);
    rc = libxl_domain_create_restore(x.ctx, &dc, &domid, fd, -1, &params, NULL, NULL);
    close(fd);
    if (rc) {
        /* libxl destroys what it built; anything still there goes here */
        if (libxl_domid_valid_guest(domid) && !libxl_domain_info(x.ctx, NULL, domid))
            libxl_domain_destroy(x.ctx, domid, NULL);
        ts_err("restore: %s was not restored (%s); nothing is left of it (the device "
               "model's reason is in /var/log/xen/qemu-dm-%s.log)", file,
               ts_libxl_strerror(rc), dc.c_info.name ? dc.c_info.name : "NAME");
        goto out;
    }
    if (!paused) {
        rc = libxl_domain_unpause(x.ctx, domid, NULL);
        if (rc) {
            ts_err("restore: domain %u restored but does not run (%s): destroyed", domid,
                   ts_libxl_strerror(rc));
            libxl_domain_destroy(x.ctx, domid, NULL);
            goto out;
        }
    }
    ts_info("restored %s as domain %u%s", dc.c_info.name ? dc.c_info.name : "the guest", domid,
            paused ? " (paused)" : "");
    status = 0;
out:
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&dc);
    ts_xl_close(&x);
    return status;
}
