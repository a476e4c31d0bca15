/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xl/xl.h: the domain side of hvmctl: its settings (settings.c, /etc/hvmd/hvmctl.conf), xl.cfg
 * files (config.c, cfgscan.c), the libxl context (xlctx.c), and the one path that builds a
 * domain from a config (create.c), used by `hvmctl create` and `hvmctl run`.
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
    enum ts_dm_kind dm;     /* device model for HVM guests that name none (and PV/PVH qdisk) */
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
/* the hvmd that sits beside this hvmctl (PREFIX/lib/hvmd/hvmd for PREFIX/sbin/hvmctl), or
 * $HVMCTL_HVMD when that is an absolute path */
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
    char *dm_note;          /* which device model, and why (for the user); PV/PVH: if any */
    bool dm_is_hvmd;
};
/* Reads FILE (text, at most 1 MiB) into *text: 0, or -EINVAL after reporting why through d. */
int ts_config_read(const char *file, char **text, size_t *len, struct ts_diag *d) TS_MUST_CHECK;
/* Parses xl.cfg text: appends the KEY=VALUE overrides as xl does, parses it into c->dc with
 * libxlutil. Every problem is reported through d naming file, line and key; returns 0 or
 * -EINVAL. */
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
/* the same on stderr with libxc's progress lines ("Saving memory", "Restoring"): save, restore,
 * migrate */
int ts_xl_open_progress(struct ts_xl *x, int verbose) TS_MUST_CHECK;
/* DOM's id and the configuration libxl keeps for it (into DC, which the caller initialised and
 * disposes of), as JSON: the saved image's and the migration stream's header (save, migrate);
 * NULL after an error that starts with VERB and DOM */
char *ts_domain_config_json(struct ts_xl *x, const char *verb, const char *dom, uint32_t *domid,
                            libxl_domain_config *dc);
void ts_xl_close(struct ts_xl *x);
/* DOM is a name or a domid; prints the error and returns -ENOENT if there is no such domain */
int ts_find_domain(struct ts_xl *x, const char *dom, uint32_t *domid) TS_MUST_CHECK;
const char *ts_libxl_strerror(int rc);
/* PV, PVH or HVM (INVALID if the domain is gone) */
libxl_domain_type ts_domain_type(struct ts_xl *x, uint32_t domid);

/* ---- building a domain: the one path of `hvmctl create` and `hvmctl run` (create.c) ---------- */
/* Load (read and parse the file), prepare (the create lock, so that two creates cannot both pass
 * the name check; libxl; the checks that need Xen), build (libxl_domain_create_new, paused; on
 * failure nothing of the domain is left). Each step returns 0 or the stage that failed, after
 * saying why: through d (read, parse, check), on stderr (xen), in g->why (lock). */
enum ts_guest_stage {
    TS_GUEST_OK = 0,
    TS_GUEST_READ,          /* the file cannot be read, or is not text */
    TS_GUEST_PARSE,         /* the config has errors */
    TS_GUEST_LOCK,          /* the create lock cannot be taken */
    TS_GUEST_XEN,           /* no libxl context (not dom0?) */
    TS_GUEST_CHECK,         /* a check against the host failed (name clash, memory, bridge) */
};
struct ts_guest {
    const struct ts_settings *s;
    const char *const *overrides;   /* KEY=VALUE from the command line */
    int n_overrides;
    char *text;             /* the file as read: a restart parses it again */
    size_t text_len;
    struct ts_config cfg;   /* valid (ts_config_free-able) from ts_guest_init on */
    struct ts_xl x;         /* x.ctx NULL while closed */
    int lock;               /* the create lock's fd while held, else -1 */
    uint32_t domid;         /* INVALID_DOMID until built */
    bool userdata_stored;   /* hvmctl's userdata (config, monitor pid) went with the domain */
    char why[300];
};
void ts_guest_init(struct ts_guest *g, const struct ts_settings *s, const char *const *overrides,
                   int n_overrides);
int ts_guest_load(struct ts_guest *g, const char *file, struct ts_diag *d) TS_MUST_CHECK;
/* parse g->text again (a restart): 0 or TS_GUEST_PARSE */
int ts_guest_reload(struct ts_guest *g, struct ts_diag *d) TS_MUST_CHECK;
int ts_guest_prepare(struct ts_guest *g, int verbose, struct ts_diag *d) TS_MUST_CHECK;
/* the create lock alone (a restart takes it without the checks): 0 or TS_GUEST_LOCK */
int ts_guest_lock(struct ts_guest *g) TS_MUST_CHECK;
void ts_guest_unlock(struct ts_guest *g);
/* Builds the domain, paused, and stores hvmctl's userdata ("run": true for `hvmctl run`).
 * Returns 0, or a libxl error (ERROR_*) with nothing of the domain left. */
int ts_guest_build(struct ts_guest *g, bool run) TS_MUST_CHECK;
/* Takes on DOMID, a domain built elsewhere (hvmctl restore, a migration's receiver): its
 * configuration from libxl (libxl_retrieve_domain_configuration) into g->cfg.dc, hvmctl's
 * userdata. g->text stays NULL: a restart rebuilds from g->cfg.dc. 0 or a libxl error. */
int ts_guest_adopt(struct ts_guest *g, uint32_t domid) TS_MUST_CHECK;
/* g->cfg.dc from libxl's view of the domain now (a restart of an adopted guest): 0 or ERROR_* */
int ts_guest_refresh(struct ts_guest *g) TS_MUST_CHECK;
/* lets a built domain run: 0, or a libxl error after destroying it */
int ts_guest_start(struct ts_guest *g) TS_MUST_CHECK;
void ts_guest_free(struct ts_guest *g);

#endif
