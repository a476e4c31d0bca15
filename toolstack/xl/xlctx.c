/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlctx.c: the libxl context hvmctl's domain commands share, and finding a domain by name or id.
 *
 * Children: hvmctl's processes fork children of their own (the monitor, the console), so libxl
 * is told to reap only its own (libxl_sigchld_owner_libxl_always_selective_reap); hvmctl waits
 * for its children with waitpid.
 */
#include "toolstack/xl/xl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const libxl_childproc_hooks child_hooks = {
    .chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

int ts_xl_open(struct ts_xl *x, FILE *logto, int verbose)
{
    int rc;

    memset(x, 0, sizeof(*x));
    x->log = xtl_createlogger_stdiostream(logto ? logto : stderr,
                                          verbose > 1 ? XTL_DEBUG :
                                          verbose ? XTL_INFO : XTL_ERROR,
                                          XTL_STDIOSTREAM_HIDE_PROGRESS);
    if (!x->log) {
        ts_err("cannot create a log for libxl");
        return -ENOMEM;
    }
    rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, (xentoollog_logger *)x->log);
    if (rc) {
        ts_err("cannot talk to Xen (libxl_ctx_alloc: %s): is this dom0, with xenstored "
               "running and /proc/xen mounted?", ts_libxl_strerror(rc));
        xtl_logger_destroy((xentoollog_logger *)x->log);
        x->log = NULL;
        x->ctx = NULL;
        return -ENODEV;
    }
    libxl_childproc_setmode(x->ctx, &child_hooks, NULL);
    return 0;
}

int ts_xl_open_progress(struct ts_xl *x, int verbose)
{
    int rc = ts_xl_open(x, NULL, verbose);

    if (rc < 0)
        return rc;
    xtl_stdiostream_adjust_flags(x->log, 0, XTL_STDIOSTREAM_HIDE_PROGRESS);
    if (!verbose)
        xtl_stdiostream_set_minlevel(x->log, XTL_PROGRESS);
    return 0;
}

void ts_xl_close(struct ts_xl *x)
{
    if (x->ctx)
        libxl_ctx_free(x->ctx);
    if (x->log)
        xtl_logger_destroy((xentoollog_logger *)x->log);
    x->ctx = NULL;
    x->log = NULL;
}

int ts_find_domain(struct ts_xl *x, const char *dom, uint32_t *domid)
{
    if (libxl_domain_qualifier_to_domid(x->ctx, dom, domid) ||
        libxl_domain_info(x->ctx, NULL, *domid)) {
        ts_err("no domain '%s' (hvmctl list shows them)", dom);
        return -ENOENT;
    }
    if (*domid == 0) {
        ts_err("'%s' is dom0: hvmctl manages guests only", dom);
        return -EPERM;
    }
    return 0;
}

const char *ts_libxl_strerror(int rc)
{
    switch (rc) {
    case ERROR_NONSPECIFIC: return "failed";
    case ERROR_VERSION: return "version mismatch";
    case ERROR_FAIL: return "failed";
    case ERROR_NI: return "not implemented";
    case ERROR_NOMEM: return "out of memory";
    case ERROR_INVAL: return "invalid argument";
    case ERROR_BADFAIL: return "failed badly";
    case ERROR_GUEST_TIMEDOUT: return "the guest did not respond in time";
    case ERROR_TIMEDOUT: return "timed out";
    case ERROR_NOPARAVIRT: return "the guest has no PV drivers";
    case ERROR_NOT_READY: return "not ready";
    case ERROR_OSEVENT_REG_FAIL: return "event registration failed";
    case ERROR_BUFFERFULL: return "buffer full";
    case ERROR_UNKNOWN_CHILD: return "unknown child";
    case ERROR_LOCK_FAIL: return "lock failed";
    case ERROR_JSON_CONFIG_EMPTY: return "no stored configuration";
    case ERROR_DEVICE_EXISTS: return "device exists";
    case ERROR_CHECKPOINT_DEVOPS_DOES_NOT_MATCH: return "checkpoint mismatch";
    case ERROR_CHECKPOINT_DEVICE_NOT_SUPPORTED: return "checkpoint not supported";
    case ERROR_VNUMA_CONFIG_INVALID: return "vNUMA config invalid";
    case ERROR_DOMAIN_NOTFOUND: return "no such domain";
    case ERROR_ABORTED: return "aborted";
    case ERROR_NOTFOUND: return "not found";
    case ERROR_DOMAIN_DESTROYED: return "the domain was destroyed";
    case ERROR_FEATURE_REMOVED: return "feature removed";
    case ERROR_PROTOCOL_ERROR_QMP: return "QMP protocol error (device model)";
    case ERROR_UNKNOWN_QMP_ERROR: return "QMP error (device model)";
    case ERROR_QMP_GENERIC_ERROR: return "QMP error (device model)";
    case ERROR_QMP_COMMAND_NOT_FOUND: return "the device model lacks a QMP command";
    case ERROR_QMP_DEVICE_NOT_ACTIVE: return "QMP: device not active";
    case ERROR_QMP_DEVICE_NOT_FOUND: return "QMP: device not found";
    case ERROR_QEMU_API: return "device model API error";
    default: return "error";
    }
}

/* PV, PVH or HVM: Xen's domain info says only PV or HVM (a PVH guest is an HVM container), so
 * the type comes from the configuration libxl keeps for each domain it built. */
libxl_domain_type ts_domain_type(struct ts_xl *x, uint32_t domid)
{
    libxl_domain_type t = LIBXL_DOMAIN_TYPE_INVALID;
    libxl_domain_config dc;
    libxl_dominfo info;
    uint8_t *data = NULL;
    int len = 0;

    if (!libxl_userdata_retrieve(x->ctx, domid, "libxl-json", &data, &len) && data && len > 0) {
        char *json = malloc((size_t)len + 1);

        if (json) {
            memcpy(json, data, (size_t)len);
            json[len] = '\0';
            libxl_domain_config_init(&dc);
            if (!libxl_domain_config_from_json(x->ctx, &dc, json))
                t = dc.c_info.type;
            libxl_domain_config_dispose(&dc);
            free(json);
        }
    }
    free(data);
    if (t != LIBXL_DOMAIN_TYPE_INVALID)
        return t;
    libxl_dominfo_init(&info);
    if (!libxl_domain_info(x->ctx, &info, domid))
        t = info.domain_type;
    libxl_dominfo_dispose(&info);
    return t;
}
