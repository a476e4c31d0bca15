/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * settings.c: hvmctl's own settings, /etc/hvmd/hvmctl.conf (xl.cfg syntax, read with libxlutil).
 *
 *   device_model = "hvmd"       # for HVM guests that name none (and PV/PVH guests' raw qdisk
 *                               # disks): "hvmd", "qemu-xen" or a path
 *   vga = "stdvga"              # HVM default when the guest's file has no vga=/stdvga=
 *   serial = "pty"              # HVM default when the guest's file has no serial=
 *   vif_bridge = "xenbr0"       # default bridge= of a vif
 *   vif_script = "..."          # default script= of a vif
 *   log_dir = "/var/log/xen"    # where each domain's monitor writes hvmctl-NAME.log
 *
 * A missing file means the built-in defaults: hvmd (the one installed beside hvmctl, or
 * $HVMCTL_HVMD), with the same display default (vga = "stdvga") as under qemu-xen.
 */
#include "toolstack/xl/xl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS_DEFAULT_DM "hvmd"

char *ts_default_hvmd_path(void)
{
    const char *env = getenv("HVMCTL_HVMD");
    char self[PATH_MAX];
    ssize_t n;
    char *slash;

    /* an hvmd elsewhere (a build tree, a test): an absolute path */
    if (env && env[0] == '/')
        return ts_strdup(env);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0) {
        self[n] = '\0';
        /* PREFIX/sbin/hvmctl -> PREFIX/lib/hvmd/hvmd */
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            slash = strrchr(self, '/');
            if (slash && !strcmp(slash, "/sbin")) {
                *slash = '\0';
                return ts_asprintf("%s/lib/hvmd/hvmd", self);
            }
        }
    }
    return ts_strdup("/usr/lib/hvmd/hvmd");
}

static int set_dm(struct ts_settings *s, const char *v, const char *file, int line,
                  struct ts_diag *d)
{
    free(s->dm_path);
    s->dm_path = NULL;
    if (!strcmp(v, "hvmd")) {
        s->dm = TS_DM_HVMD;
        s->dm_path = ts_default_hvmd_path();
    } else if (!strcmp(v, "qemu-xen") || !strcmp(v, "qemu")) {
        s->dm = TS_DM_QEMU;
    } else if (v[0] == '/') {
        s->dm = TS_DM_PATH;
        s->dm_path = ts_strdup(v);
    } else {
        ts_error_at(d, file, line, "device_model",
                    "'%s' is not \"hvmd\", \"qemu-xen\" or an absolute path", v);
        return -EINVAL;
    }
    s->dm_line = line;
    return 0;
}

static void defaults(struct ts_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->vga = ts_strdup("stdvga");
    s->serial = ts_strdup("pty");
    s->log_dir = ts_strdup("/var/log/xen");
    s->lock_file = ts_strdup("/run/hvmd/create.lock");
}

static const char *const known[] = {
    "device_model", "vga", "serial", "vif_bridge", "vif_script", "log_dir", NULL
};

int ts_settings_load(struct ts_settings *s, const char *path, struct ts_diag *d)
{
    struct ts_cfgscan scan = { 0 };
    XLU_Config *cfg = NULL;
    char *data = NULL;
    size_t len = 0, i;
    const char *v;
    int rc;

    defaults(s);
    if (!path)
        path = getenv("HVMCTL_CONF");
    if (!path)
        path = TS_SETTINGS_FILE;
    rc = set_dm(s, TS_DEFAULT_DM, NULL, 0, d);
    if (rc < 0)
        return rc;
    rc = ts_read_file(path, &data, &len);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        ts_error_at(d, path, 0, NULL, "cannot read: %s", strerror(-rc));
        return -EINVAL;
    }
    s->source = ts_strdup(path);
    rc = ts_cfgscan(data, len, &scan);
    if (rc < 0)
        goto out;
    cfg = xlu_cfg_init(d && d->out ? d->out : stderr, path);
    if (!cfg) {
        rc = -ENOMEM;
        goto out;
    }
    if (xlu_cfg_readdata(cfg, data, (int)len)) {
        if (d)
            d->errors++;
        rc = -EINVAL;
        goto out;
    }
    for (i = 0; i < scan.n; i++) {
        const char *const *k;
        for (k = known; *k && strcmp(*k, scan.keys[i].name); k++)
            ;
        if (!*k)
            ts_warn_at(d, path, scan.keys[i].line, scan.keys[i].name, "unknown setting, ignored");
    }
#define LINE(key) (ts_cfgscan_find(&scan, key) ? ts_cfgscan_find(&scan, key)->line : 0)
#define STR(key, field)                                                                    \
    do {                                                                                   \
        int e_ = xlu_cfg_get_string(cfg, key, &v, 1);                                      \
        if (!e_) {                                                                         \
            free(s->field);                                                                \
            s->field = v[0] ? ts_strdup(v) : NULL;                                         \
        } else if (e_ != ESRCH) {                                                          \
            ts_error_at(d, path, LINE(key), key, "must be a string");                      \
            rc = -EINVAL;                                                                  \
        }                                                                                  \
    } while (0)
    rc = 0;
    if (!xlu_cfg_get_string(cfg, "device_model", &v, 1)) {
        if (set_dm(s, v, path, LINE("device_model"), d) < 0)
            rc = -EINVAL;
    } else if (ts_cfgscan_find(&scan, "device_model")) {
        ts_error_at(d, path, LINE("device_model"), "device_model", "must be a string");
        rc = -EINVAL;
    }
    STR("vga", vga);
    STR("serial", serial);
    STR("vif_bridge", vif_bridge);
    STR("vif_script", vif_script);
    STR("log_dir", log_dir);
#undef STR
#undef LINE
    if (s->vga && strcmp(s->vga, "stdvga") && strcmp(s->vga, "cirrus") &&
        strcmp(s->vga, "none")) {
        ts_error_at(d, path, ts_cfgscan_find(&scan, "vga")->line, "vga",
                    "'%s' is not stdvga, cirrus or none", s->vga);
        rc = -EINVAL;
    }
    if (!s->log_dir)
        s->log_dir = ts_strdup("/var/log/xen");
out:
    if (cfg)
        xlu_cfg_destroy(cfg);
    ts_cfgscan_free(&scan);
    free(data);
    return rc;
}

void ts_settings_free(struct ts_settings *s)
{
    free(s->source);
    free(s->dm_path);
    free(s->vga);
    free(s->serial);
    free(s->vif_bridge);
    free(s->vif_script);
    free(s->log_dir);
    free(s->lock_file);
    memset(s, 0, sizeof(*s));
}

const char *ts_dm_describe(const struct ts_settings *s)
{
    switch (s->dm) {
    case TS_DM_HVMD:
        return "hvmd";
    case TS_DM_QEMU:
        return "qemu-xen";
    case TS_DM_PATH:
        return s->dm_path;
    }
    return "?";
}
