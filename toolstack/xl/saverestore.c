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
#include "toolstack/xl/image.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ts_domain_config_json(struct ts_xl *x, const char *verb, const char *dom, uint32_t *domid,
                            libxl_domain_config *dc)
{
    char *json;
    int rc;

    if (ts_find_domain(x, dom, domid) < 0)
        return NULL;
    rc = libxl_retrieve_domain_configuration(x->ctx, *domid, dc, NULL);
    if (rc) {
        ts_err("%s %s: cannot retrieve its configuration (%s)", verb, dom, ts_libxl_strerror(rc));
        return NULL;
    }
    json = libxl_domain_config_to_json(x->ctx, dc);
    if (!json)
        ts_err("%s %s: cannot write its configuration as JSON", verb, dom);
    return json;
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
    if (ts_xl_open_progress(&x, verbose) < 0)
        goto out;
    json = ts_domain_config_json(&x, "save", dom, &domid, &dc);
    if (!json)
        goto out;
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        ts_err("save %s: cannot create %s: %s", dom, file, strerror(errno));
        goto out;
    }
    if (ts_image_write_header(fd, json) < 0) {
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

int ts_read_config(struct ts_xl *x, int fd, libxl_domain_config *dc, char *why, size_t whylen)
{
    char *json;
    int rc = ts_image_read_header(fd, &json, why, whylen);

    if (rc < 0)
        return rc;
    rc = libxl_domain_config_from_json(x->ctx, dc, json);
    free(json);
    if (rc)
        return ts_fail(why, whylen, true, -EINVAL, "its configuration does not parse (%s)",
                       ts_libxl_strerror(rc));
    return 0;
}

/* Read FILE's header and configuration into DC; the descriptor at the start of libxl's
 * stream, or a negative errno (said). */
static int open_image(struct ts_xl *x, const char *file, libxl_domain_config *dc)
{
    char why[200];
    int fd = open(file, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        rc = -errno;
        ts_err("restore: cannot open %s: %s", file, strerror(errno));
        return rc;
    }
    rc = ts_read_config(x, fd, dc, why, sizeof(why));
    if (rc < 0) {
        ts_err("restore: %s: %s", file, why);
        close(fd);
        return rc;
    }
    return fd;
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
        "Build the guest FILE holds (hvmctl save or xl save wrote it) and run it where it was,\n"
        "with a monitor process beside it, as hvmctl create's: on_poweroff, on_reboot and\n"
        "on_crash are carried out (its log: /var/log/xen/hvmctl-NAME.log).\n"
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
    char why[200], *json;
    int pre = open(file, O_RDONLY | O_CLOEXEC);
    if (pre < 0) {
        ts_err("restore: cannot open %s: %s", file, strerror(errno));
        return 1;
    }
    rc = ts_image_read_header(pre, &json, why, sizeof(why));
    close(pre);
    free(json);
    if (rc < 0) {
        ts_err("restore: %s: %s", file, why);
        return 1;
    }
    libxl_domain_config_init(&dc);
    libxl_domain_restore_params_init(&params);
    if (ts_xl_open_progress(&x, verbose) < 0)
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
    /* the monitor takes the domain on before it runs (no libxl context crosses its fork) */
    char *name = ts_strdup(dc.c_info.name ? dc.c_info.name : "guest");
    ts_xl_close(&x);
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    rc = ts_settings_load(&s, NULL, &d);
    if (rc == 0)
        rc = ts_monitor_adopt(&s, domid, name, verbose);
    ts_settings_free(&s);
    if (ts_xl_open_progress(&x, verbose) < 0) {
        free(name);
        goto out;
    }
    if (rc < 0) {
        ts_err("restore: %s has no monitor: destroyed", name);
        libxl_domain_destroy(x.ctx, domid, NULL);
        free(name);
        goto out;
    }
    if (!paused) {
        rc = libxl_domain_unpause(x.ctx, domid, NULL);
        if (rc) {
            ts_err("restore: domain %u restored but does not run (%s): destroyed", domid,
                   ts_libxl_strerror(rc));
            libxl_domain_destroy(x.ctx, domid, NULL);
            free(name);
            goto out;
        }
    }
    ts_info("restored %s as domain %u%s", name, domid, paused ? " (paused)" : "");
    free(name);
    status = 0;
out:
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&dc);
    ts_xl_close(&x);
    return status;
}
