/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * create.c: the one path from an xl.cfg file to a built domain, for `hvmctl create` (xl/domain.c)
 * and `hvmctl run` (run/guest.c): load (read, parse), prepare (the create lock, libxl, the checks
 * that need Xen), build (libxl_domain_create_new, paused), start (unpause).
 *
 * The lock makes "no domain of that name" and the create one step: it is held from before the
 * name check until the domain exists. libxl_domain_create_new leaves nothing behind when it fails
 * (it destroys the half-built domain: device model, backends, xenstore nodes); if it returned a
 * domid anyway, that domain is destroyed here too.
 */
#include "toolstack/xl/xl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ts_guest_init(struct ts_guest *g, const struct ts_settings *s, const char *const *overrides,
                   int n_overrides)
{
    memset(g, 0, sizeof(*g));
    g->s = s;
    g->overrides = overrides;
    g->n_overrides = n_overrides;
    g->lock = -1;
    g->domid = INVALID_DOMID;
    libxl_domain_config_init(&g->cfg.dc);
}

int ts_guest_load(struct ts_guest *g, const char *file, struct ts_diag *d)
{
    if (ts_config_read(file, &g->text, &g->text_len, d) < 0)
        return TS_GUEST_READ;
    if (ts_config_parse(&g->cfg, file, g->text, g->text_len, g->overrides, g->n_overrides, g->s,
                        d) < 0)
        return TS_GUEST_PARSE;
    return TS_GUEST_OK;
}

int ts_guest_reload(struct ts_guest *g, struct ts_diag *d)
{
    char *file = ts_strdup(g->cfg.file);
    int rc;

    ts_config_free(&g->cfg);
    rc = ts_config_parse(&g->cfg, file, g->text, g->text_len, g->overrides, g->n_overrides, g->s,
                         d);
    free(file);
    return rc < 0 ? TS_GUEST_PARSE : TS_GUEST_OK;
}

int ts_guest_lock(struct ts_guest *g)
{
    if (g->lock < 0)
        g->lock = ts_lock_file(g->s->lock_file, 0600, g->why, sizeof(g->why));
    return g->lock < 0 ? TS_GUEST_LOCK : TS_GUEST_OK;
}

void ts_guest_unlock(struct ts_guest *g)
{
    if (g->lock >= 0)
        close(g->lock);
    g->lock = -1;
}

int ts_guest_prepare(struct ts_guest *g, int verbose, struct ts_diag *d)
{
    if (ts_guest_lock(g))
        return TS_GUEST_LOCK;
    if (!g->x.ctx && ts_xl_open(&g->x, NULL, verbose) < 0)
        return TS_GUEST_XEN;
    if (ts_config_check_host(&g->cfg, g->x.ctx, d) < 0)
        return TS_GUEST_CHECK;
    return TS_GUEST_OK;
}

/* what `hvmctl list` and `hvmctl destroy` learn of the domain: its config and its monitor */
static void store_userdata(struct ts_guest *g, bool run)
{
    /* the path may hold a quote: keep the JSON valid by dropping such a path */
    const char *file = g->cfg.file && !strpbrk(g->cfg.file, "\"\\") ? g->cfg.file : NULL;
    char *cfg = file ? ts_asprintf("\"%s\"", file) : ts_strdup("null");
    char *json = ts_asprintf("{\"config\": %s, \"monitor_pid\": %ld%s}\n", cfg, (long)getpid(),
                             run ? ", \"run\": true" : "");

    g->userdata_stored = libxl_userdata_store(g->x.ctx, g->domid, "hvmctl",
                                              (const uint8_t *)json, (int)strlen(json)) == 0;
    free(json);
    free(cfg);
}

int ts_guest_build(struct ts_guest *g, bool run)
{
    uint32_t domid = INVALID_DOMID;
    int rc;

    rc = libxl_domain_create_new(g->x.ctx, &g->cfg.dc, &domid, NULL, NULL);
    if (rc) {
        /* libxl destroys what it built when it fails; anything still there goes here */
        if (libxl_domid_valid_guest(domid) && !libxl_domain_info(g->x.ctx, NULL, domid))
            libxl_domain_destroy(g->x.ctx, domid, NULL);
        g->domid = INVALID_DOMID;
        return rc;
    }
    g->domid = domid;
    store_userdata(g, run);
    return 0;
}

int ts_guest_adopt(struct ts_guest *g, uint32_t domid)
{
    libxl_domain_config dc;
    int rc;

    libxl_domain_config_init(&dc);
    rc = libxl_retrieve_domain_configuration(g->x.ctx, domid, &dc, NULL);
    if (rc) {
        libxl_domain_config_dispose(&dc);
        return rc;
    }
    libxl_domain_config_dispose(&g->cfg.dc);
    g->cfg.dc = dc;
    g->domid = domid;
    store_userdata(g, false);
    return 0;
}

int ts_guest_refresh(struct ts_guest *g)
{
    libxl_domain_config dc;
    int rc;

    libxl_domain_config_init(&dc);
    rc = libxl_retrieve_domain_configuration(g->x.ctx, g->domid, &dc, NULL);
    if (rc) {
        libxl_domain_config_dispose(&dc);
        return rc;
    }
    libxl_domain_config_dispose(&g->cfg.dc);
    g->cfg.dc = dc;
    return 0;
}

int ts_guest_start(struct ts_guest *g)
{
    int rc = libxl_domain_unpause(g->x.ctx, g->domid, NULL);

    if (rc) {
        libxl_domain_destroy(g->x.ctx, g->domid, NULL);
        g->domid = INVALID_DOMID;
    }
    return rc;
}

void ts_guest_free(struct ts_guest *g)
{
    ts_guest_unlock(g);
    ts_xl_close(&g->x);
    ts_config_free(&g->cfg);
    free(g->text);
    g->text = NULL;
}
