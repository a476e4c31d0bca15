/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xl/xl.h: the domain side of hvmctl: its settings (settings.c, /etc/hvmd/hvmctl.conf), xl.cfg
 * files (config.c, cfgscan.c), the libxl context
 * (xlctx.c), and the one path that builds a domain from a config (create.c), used by
 * `hvmctl create` and `hvmctl run`.
 */
#ifndef HVMCTL_XL_H
#define HVMCTL_XL_H

#include "toolstack/ts.h"

/* libxl is used at API version 4.13 (ao_how on the lifecycle calls), the one Xen 4.17's xl itself
 * builds against; every file of ours that uses libxl or libxlutil includes this header first. */
#define LIBXL_API_VERSION 0x041300
#include <libxl.h>
#include <libxl_utils.h>
#include <libxlutil.h>

/* ---- settings: /etc/hvmd/hvmctl.conf ---------------------------------------------------- */
#define TS_SETTINGS_FILE "/etc/hvmd/hvmctl.conf"
enum ts_dm_kind { TS_DM_HVMD, TS_DM_QEMU, TS_DM_PATH };
struct ts_settings {
    char *source;           /* the file read, or NULL when it was absent (built-in defaults) */
    enum ts_dm_kind dm;     /* device model for HVM guests that name none */
    char *dm_path;          /* the binary for TS_DM_HVMD / TS_DM_PATH */
    int dm_line;            /* line of device_model in the settings file (0: built-in) */
    char *vga;              /* default vga for HVM guests: "stdvga" */
    char *serial;           /* default serial for HVM guests: "pty" */
    char *vif_bridge;       /* default bridge of a vif (NULL: libxl's xenbr0) */
    char *vif_script;       /* default hotplug script of a vif (NULL: libxl's vif-bridge) */
    char *log_dir;          /* where monitor logs go: /var/log/xen */
    char *lock_file;        /* serialises creates (name checks): /run/hvmd/create.lock */
};
/* Reads PATH (NULL: $HVMCTL_CONF or TS_SETTINGS_FILE); a missing file gives the defaults.
 * Returns 0, or -EINVAL after reporting what is wrong through d. */
int ts_settings_load(struct ts_settings *s, const char *path, struct ts_diag *d) TS_MUST_CHECK;
void ts_settings_free(struct ts_settings *s);
const char *ts_dm_describe(const struct ts_settings *s);
/* the hvmd that sits beside this hvmctl (PREFIX/lib/hvmd/hvmd for PREFIX/sbin/hvmctl) */
char *ts_default_hvmd_path(void);


/* ---- xl.cfg key scanner: which keys a file sets, on which line -------------------------- */
struct ts_cfgkey {
    char *name;
    int line;               /* line of the key (of the last assignment: the one that counts) */
    bool used;              /* the parser looked at it */
};
struct ts_cfgscan {
    struct ts_cfgkey *keys;
    size_t n;
};
/* Scans xl.cfg text (libxlutil's syntax) for top-level assignments. Never fails on syntax
 * (libxlutil reports that); returns -ENOMEM only. */
int ts_cfgscan(const char *data, size_t len, struct ts_cfgscan *out) TS_MUST_CHECK;
struct ts_cfgkey *ts_cfgscan_find(const struct ts_cfgscan *s, const char *name);
void ts_cfgscan_free(struct ts_cfgscan *s);

/* ---- a guest's configuration --------------------------------------------------------------- */
struct ts_config {
    libxl_domain_config dc;
    char *file;             /* the config file as named on the command line */
    char *data;             /* file text + "\n" + overrides, what the parse saw (restarts reuse it) */
    size_t len;
    int file_lines;         /* lines before the overrides */
    char **overrides;       /* KEY=VALUE from the command line, as given */
    int n_overrides;
    struct ts_cfgscan scan;
    char *dm_note;          /* for HVM: which device model, and why (for the user) */
    bool dm_is_hvmd;
};
/* Reads FILE, appends the KEY=VALUE overrides as xl does, parses it into c->dc with libxlutil.
 * Every problem is reported through d naming file, line and key; returns 0 or -EINVAL. */
int ts_config_load(struct ts_config *c, const char *file, const char *const *overrides, int n,
                   const struct ts_settings *s, struct ts_diag *d) TS_MUST_CHECK;
/* The same from text already in memory (restarts; tests). */
int ts_config_parse(struct ts_config *c, const char *file, const char *text, size_t len,
                    const char *const *overrides, int n, const struct ts_settings *s,
                    struct ts_diag *d) TS_MUST_CHECK;
void ts_config_free(struct ts_config *c);
/* where KEY was set: "FILE:LINE" into buf, for messages after parsing */
int ts_config_key_line(const struct ts_config *c, const char *key, const char **file);
/* Checks that need Xen (a name clash, memory the host does not have); returns 0 or -EINVAL. */
int ts_config_check_host(struct ts_config *c, libxl_ctx *ctx, struct ts_diag *d) TS_MUST_CHECK;
const char *ts_action_name(libxl_action_on_shutdown a);

/* ---- libxl plumbing ----------------------------------------------------------------------- */
struct ts_xl {
    libxl_ctx *ctx;
    xentoollog_logger_stdiostream *log;
};
/* level: XTL_ERROR normally, XTL_DEBUG with -v */
int ts_xl_open(struct ts_xl *x, FILE *logto, int verbose) TS_MUST_CHECK;
void ts_xl_close(struct ts_xl *x);
/* DOM is a name or a domid; prints the error and returns -ENOENT if there is no such domain */
int ts_find_domain(struct ts_xl *x, const char *dom, uint32_t *domid) TS_MUST_CHECK;
const char *ts_libxl_strerror(int rc);
/* PV, PVH or HVM (INVALID if the domain is gone) */
libxl_domain_type ts_domain_type(struct ts_xl *x, uint32_t domid);

#endif
