/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.c: a guest's xl.cfg into a libxl_domain_config.
 *
 * The syntax and the key names are xl's (xl.cfg(5)): libxlutil parses the file and hvmctl reads
 * its values key by key, as xl's parser does, into libxl's structures. Where xl stays silent
 * hvmctl does not: a value that is not valid, a key xl knows but hvmctl does not support, a file
 * the guest needs that is not there, are errors naming the file, the line and the key; a key that
 * neither knows is a warning (a typo, most likely). Checks that need Xen (a name clash, memory
 * the host does not have) are in ts_config_check_host().
 *
 * hvmctl's own defaults, from the settings file (settings.c): the device model of HVM guests
 * (device_model_override), vga (stdvga), serial (a pty), and a vif's bridge and script.
 */
#include "toolstack/xl/xl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Debian's Xen 4.17: where pvgrub lives */
#define TS_XEN_FIRMWARE_DIR "/usr/lib/xen-4.17/boot"

struct pctx {
    struct ts_config *c;
    XLU_Config *cfg;
    const struct ts_settings *s;
    struct ts_diag *d;
    int rc;
};

/* ---- where a key was set --------------------------------------------------------------------- */

int ts_config_key_line(const struct ts_config *c, const char *key, const char **file)
{
    struct ts_cfgkey *k = ts_cfgscan_find(&c->scan, key);

    *file = c->file;
    if (!k)
        return 0;
    if (k->line > c->file_lines) {
        *file = "command line";
        return 0;
    }
    return k->line;
}

/* a message about KEY (NULL: the file) at the line that set it; an error fails the parse */
static void pmsg(struct pctx *p, bool error, const char *key, const char *fmt, ...) TS_PRINTF(4, 5);
static void pmsg(struct pctx *p, bool error, const char *key, const char *fmt, ...)
{
    const char *file = p->c->file;
    int line = key ? ts_config_key_line(p->c, key, &file) : 0;
    char *msg;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (error) {
        ts_error_at(p->d, file, line, key, "%s", msg ? msg : fmt);
        p->rc = -EINVAL;
    } else {
        ts_warn_at(p->d, file, line, key, "%s", msg ? msg : fmt);
    }
    free(msg);
}
#define perr(p, key, ...) pmsg(p, true, key, __VA_ARGS__)
#define pwarn(p, key, ...) pmsg(p, false, key, __VA_ARGS__)

static bool present(struct pctx *p, const char *key)
{
    struct ts_cfgkey *k = ts_cfgscan_find(&p->c->scan, key);

    if (k)
        k->used = true;
    return k != NULL;
}

/* ---- typed getters: 1 set, 0 absent, -EINVAL wrong (reported) ------------------------------- */

static int get_str(struct pctx *p, const char *key, const char **v)
{
    if (!present(p, key))
        return 0;
    if (xlu_cfg_get_string(p->cfg, key, v, 1)) {
        perr(p, key, "must be a single value, not a list");
        return -EINVAL;
    }
    return 1;
}

static int get_strdup(struct pctx *p, const char *key, char **field)
{
    const char *v;
    int r = get_str(p, key, &v);

    if (r == 1) {
        free(*field);
        *field = ts_strdup(v);
    }
    return r;
}

static int get_long(struct pctx *p, const char *key, long min, long max, long *out)
{
    const char *v;
    long l;
    int r = get_str(p, key, &v);

    if (r != 1)
        return r;
    if (ts_parse_long(v, &l) < 0) {
        perr(p, key, "'%s' is not a number", v);
        return -EINVAL;
    }
    if (l < min || l > max) {
        perr(p, key, "%ld is out of range (%ld to %ld)", l, min, max);
        return -EINVAL;
    }
    *out = l;
    return 1;
}

static int get_bool(struct pctx *p, const char *key, libxl_defbool *b)
{
    const char *v;
    long l;
    int r = get_str(p, key, &v);

    if (r != 1)
        return r;
    if (ts_parse_long(v, &l) == 0 && (l == 0 || l == 1)) {
        libxl_defbool_set(b, l);
        return 1;
    }
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
        libxl_defbool_set(b, true);
        return 1;
    }
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
        libxl_defbool_set(b, false);
        return 1;
    }
    perr(p, key, "'%s' is not a boolean (0 or 1)", v);
    return -EINVAL;
}

static int get_list(struct pctx *p, const char *key, XLU_ConfigList **l, int *n)
{
    if (!present(p, key))
        return 0;
    if (xlu_cfg_get_list(p->cfg, key, l, n, 1)) {
        perr(p, key, "must be a list, e.g. %s = [ \"...\" ]", key);
        return -EINVAL;
    }
    return 1;
}

/* a list of strings, or (as xl also takes) a single string */
static int get_string_list(struct pctx *p, const char *key, libxl_string_list *sl)
{
    const char *v;

    if (!present(p, key))
        return 0;
    libxl_string_list_dispose(sl);
    if (!xlu_cfg_get_list_as_string_list(p->cfg, key, sl, 1))
        return 1;
    if (!xlu_cfg_get_string(p->cfg, key, &v, 1)) {
        *sl = calloc(2, sizeof(char *));
        if (!*sl)
            return -ENOMEM;
        (*sl)[0] = ts_strdup(v);
        return 1;
    }
    perr(p, key, "must be a string or a list of strings");
    return -EINVAL;
}

/* ---- actions on shutdown (xl's names) --------------------------------------------------------- */

static const char *const action_names[] = {
    [LIBXL_ACTION_ON_SHUTDOWN_DESTROY] = "destroy",
    [LIBXL_ACTION_ON_SHUTDOWN_RESTART] = "restart",
    [LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME] = "rename-restart",
    [LIBXL_ACTION_ON_SHUTDOWN_PRESERVE] = "preserve",
    [LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY] = "coredump-destroy",
    [LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART] = "coredump-restart",
    [LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET] = "soft-reset",
};

const char *ts_action_name(libxl_action_on_shutdown a)
{
    if ((unsigned)a < sizeof(action_names) / sizeof(action_names[0]) && action_names[a])
        return action_names[a];
    return "unknown";
}

static void get_action(struct pctx *p, const char *key, const char *def,
                       libxl_action_on_shutdown *a)
{
    const char *v = def;
    size_t i;

    if (get_str(p, key, &v) < 0)
        return;
    for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
        if (action_names[i] && !strcmp(v, action_names[i])) {
            *a = (libxl_action_on_shutdown)i;
            return;
        }
    }
    perr(p, key, "'%s' is not one of destroy, restart, rename-restart, preserve, "
         "coredump-destroy, coredump-restart, soft-reset", v);
}

/* ---- keys hvmctl knows but does not take, and keys only HVM guests use ------------------------ */

static const char *const unsupported_keys[] = {
    "pci", "dtdev", "usbctrl", "usbdev", "p9", "vtpm", "vdispl", "vsnd", "pvcalls", "channel",
    "vkb", "vnuma", "cpus", "cpus_soft", "ioports", "irqs", "iomem", "rdm", "rdm_mem_boundary",
    "pool", "seclabel", "init_seclabel", "device_model_stubdomain_override",
    "device_model_stubdomain_seclabel", "stubdomain_kernel", "stubdomain_ramdisk",
    "stubdomain_memory", "spice", "spiceport", "spicetls_port", "spicehost",
    "spicedisable_ticketing", "spicepasswd", "spiceagent_mouse", "spicevdagent",
    "spice_clipboard_sharing", "spiceusbredirection", "spice_image_compression",
    "spice_streaming_video", "gfx_passthru", "altp2m", "altp2mhvm", "vmtrace_buf_kb",
    "gic_version", "tee", "vuart", "device_tree", "driver_domain", "e820_host",
    "pci_msitranslate", "pci_power_mgmt", "pci_permissive", "pci_seize", "passthrough",
    "mca_caps", "xend_suspend_evtchn_compat", "msr_relaxed", "pvshim", "pvshim_path",
    "pvshim_cmdline", "pvshim_extra", "vif2", "vpmu", "ms_vm_genid", NULL
};

static const char *const hvm_only_keys[] = {
    "boot", "serial", "vga", "stdvga", "hdtype", "nographic", "usb", "usbversion", "usbdevice",
    "vkb_device", "soundhw", "xen_platform_pci", "vendor_device", "pae", "acpi_s3", "acpi_s4",
    "acpi_laptop_slate", "nx", "hpet", "vpt_align", "apic", "viridian", "mmio_hole",
    "firmware_override", "bios_path_override", "bios", "smbios_firmware", "acpi_firmware",
    "timer_mode", "rtc_timeoffset", "localtime", "videoram", "shadow_memory", "device_model_args_hvm",
    NULL
};

static bool in_list(const char *const *l, const char *k)
{
    for (; *l; l++)
        if (!strcmp(*l, k))
            return true;
    return false;
}

/* ---- pieces ------------------------------------------------------------------------------------- */

static void parse_type(struct pctx *p)
{
    libxl_domain_create_info *ci = &p->c->dc.c_info;
    const char *v;

    ci->type = LIBXL_DOMAIN_TYPE_INVALID;
    if (get_str(p, "type", &v) == 1) {
        if (!strcmp(v, "hvm"))
            ci->type = LIBXL_DOMAIN_TYPE_HVM;
        else if (!strcmp(v, "pv"))
            ci->type = LIBXL_DOMAIN_TYPE_PV;
        else if (!strcmp(v, "pvh"))
            ci->type = LIBXL_DOMAIN_TYPE_PVH;
        else
            perr(p, "type", "'%s' is not hvm, pv or pvh", v);
    }
    /* deprecated since Xen 4.10, still in old files */
    if (get_str(p, "builder", &v) == 1) {
        libxl_domain_type bt = LIBXL_DOMAIN_TYPE_INVALID;

        if (!strcmp(v, "hvm"))
            bt = LIBXL_DOMAIN_TYPE_HVM;
        else if (!strcmp(v, "generic"))
            bt = LIBXL_DOMAIN_TYPE_PV;
        else
            perr(p, "builder", "'%s' is not hvm or generic (better: type = \"hvm\")", v);
        if (bt != LIBXL_DOMAIN_TYPE_INVALID) {
            if (ci->type != LIBXL_DOMAIN_TYPE_INVALID && ci->type != bt)
                perr(p, "builder", "contradicts type = \"%s\"",
                     libxl_domain_type_to_string(ci->type));
            ci->type = bt;
        }
    }
    if (ci->type == LIBXL_DOMAIN_TYPE_INVALID)
        ci->type = LIBXL_DOMAIN_TYPE_PV;    /* as xl on x86 */
}

static void parse_name(struct pctx *p)
{
    libxl_domain_create_info *ci = &p->c->dc.c_info;
    const char *v, *q;
    bool digits = true;

    if (get_str(p, "name", &v) != 1) {
        if (!present(p, "name"))
            perr(p, NULL, "name: missing (every guest needs name = \"...\")");
        return;
    }
    if (!*v) {
        perr(p, "name", "is empty");
        return;
    }
    if (strlen(v) > 64) {
        perr(p, "name", "is longer than 64 characters");
        return;
    }
    for (q = v; *q; q++) {
        if (!isdigit((unsigned char)*q))
            digits = false;
        if (*q == '/' || isspace((unsigned char)*q) || !isprint((unsigned char)*q)) {
            perr(p, "name", "'%s': no '/', spaces or control characters", v);
            return;
        }
    }
    if (digits) {
        perr(p, "name", "'%s' is all digits: it would read as a domain id", v);
        return;
    }
    ci->name = ts_strdup(v);
}

static void set_vcpus(libxl_bitmap *bm, long n)
{
    long i;

    libxl_bitmap_dispose(bm);
    libxl_bitmap_init(bm);
    bm->size = (uint32_t)((n + 7) / 8);
    bm->map = calloc(bm->size ? bm->size : 1, 1);
    if (!bm->map) {
        fputs("hvmctl: out of memory\n", stderr);
        exit(1);
    }
    for (i = 0; i < n; i++)
        bm->map[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void parse_memory_vcpus(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    long mem = -1, maxmem = -1, vcpus = 1, maxvcpus = -1, l;

    /* 1 TiB as a bound on what the file can say; the host's own limit is checked later.
     * Without memory= libxl's default applies (32 MB), as with xl. */
    if (get_long(p, "memory", 1, 1L << 20, &l) == 1)
        mem = l;
    if (get_long(p, "maxmem", 1, 1L << 20, &l) == 1)
        maxmem = l;
    if (mem > 0) {
        bi->target_memkb = (uint64_t)mem * 1024;
        bi->max_memkb = (uint64_t)(maxmem > 0 ? maxmem : mem) * 1024;
        if (maxmem > 0 && maxmem < mem)
            perr(p, "maxmem", "%ld MB is less than memory = %ld", maxmem, mem);
    } else if (maxmem > 0) {
        bi->max_memkb = (uint64_t)maxmem * 1024;
    }
    if (get_long(p, "vcpus", 1, 4096, &l) == 1)
        vcpus = l;
    if (get_long(p, "maxvcpus", 1, 4096, &l) == 1)
        maxvcpus = l;
    if (maxvcpus > 0 && maxvcpus < vcpus)
        perr(p, "maxvcpus", "%ld is less than vcpus = %ld", maxvcpus, vcpus);
    bi->max_vcpus = (int)(maxvcpus > 0 ? maxvcpus : vcpus);
    set_vcpus(&bi->avail_vcpus, vcpus);
}

static void parse_sched(struct pctx *p)
{
    libxl_domain_sched_params *sp = &p->c->dc.b_info.sched_params;
    long l;

    if (get_long(p, "cpu_weight", 1, 65535, &l) == 1)
        sp->weight = (int)l;
    if (get_long(p, "cap", 0, INT_MAX, &l) == 1)
        sp->cap = (int)l;
    if (get_long(p, "period", 0, INT_MAX, &l) == 1)
        sp->period = (int)l;
    if (get_long(p, "slice", 0, INT_MAX, &l) == 1)
        sp->slice = (int)l;
    if (get_long(p, "latency", 0, INT_MAX, &l) == 1)
        sp->latency = (int)l;
    if (get_long(p, "extratime", 0, 1, &l) == 1)
        sp->extratime = (int)l;
}

static void parse_cmdline(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    const char *cmd = NULL, *root = NULL, *extra = NULL;

    get_str(p, "cmdline", &cmd);
    get_str(p, "root", &root);
    get_str(p, "extra", &extra);
    if (cmd) {
        if (root || extra)
            pwarn(p, "cmdline", "root= and extra= are ignored in favour of cmdline=");
        bi->cmdline = ts_strdup(cmd);
    } else if (root && extra) {
        bi->cmdline = ts_asprintf("root=%s %s", root, extra);
    } else if (root) {
        bi->cmdline = ts_asprintf("root=%s", root);
    } else if (extra) {
        bi->cmdline = ts_strdup(extra);
    }
}

/* a file the guest needs: there, a regular file or block device, readable */
static void check_file(struct pctx *p, const char *key, const char *what, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        perr(p, key, "%s%s%s: %s", what ? what : "", what ? " " : "", path, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        perr(p, key, "%s%s%s: is a directory", what ? what : "", what ? " " : "", path);
        return;
    }
    if (access(path, R_OK) < 0)
        perr(p, key, "%s%s%s: %s", what ? what : "", what ? " " : "", path, strerror(errno));
}

static void parse_boot_files(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    libxl_domain_type type = p->c->dc.c_info.type;
    const char *v;

    get_strdup(p, "kernel", &bi->kernel);
    get_strdup(p, "ramdisk", &bi->ramdisk);
    parse_cmdline(p);
    get_strdup(p, "bootloader", &bi->bootloader);
    get_string_list(p, "bootloader_args", &bi->bootloader_args);

    if (type == LIBXL_DOMAIN_TYPE_HVM) {
        if (bi->kernel && strstr(bi->kernel, "hvmloader")) {
            pwarn(p, "kernel", "hvmloader is the default HVM firmware; ignored "
                  "(firmware_override= names another)");
            free(bi->kernel);
            bi->kernel = NULL;
        }
        if (bi->ramdisk && !bi->kernel)
            perr(p, "ramdisk", "is set but kernel= is not");
    } else {
        if (get_str(p, "firmware", &v) == 1) {
            if (bi->kernel)
                perr(p, "firmware", "both kernel= and firmware= are set");
            else if (strcmp(v, "pvgrub32") && strcmp(v, "pvgrub64"))
                perr(p, "firmware", "'%s': a %s guest takes only pvgrub32 or pvgrub64", v,
                     libxl_domain_type_to_string(type));
            else
                bi->kernel = ts_asprintf(TS_XEN_FIRMWARE_DIR "/%s.bin", v);
        }
        if (!bi->kernel && !bi->bootloader && !present(p, "firmware"))
            perr(p, NULL, "kernel: missing (a %s guest boots kernel= or bootloader=)",
                 libxl_domain_type_to_string(type));
    }
    if (bi->kernel)
        check_file(p, present(p, "kernel") ? "kernel" : "firmware", NULL, bi->kernel);
    if (bi->ramdisk)
        check_file(p, "ramdisk", NULL, bi->ramdisk);
}

static void parse_misc(struct pctx *p)
{
    libxl_domain_create_info *ci = &p->c->dc.c_info;
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    const char *v;
    long l;

    if (get_str(p, "uuid", &v) == 1) {
        if (libxl_uuid_from_string(&ci->uuid, v))
            perr(p, "uuid", "'%s' is not a UUID", v);
    } else {
        libxl_uuid_generate(&ci->uuid);
    }
    get_bool(p, "hap", &ci->hap);
    get_bool(p, "oos", &ci->oos);
    libxl_defbool_set(&ci->run_hotplug_scripts, true);

    if (get_long(p, "shadow_memory", 0, 1L << 20, &l) == 1)
        bi->shadow_memkb = (uint64_t)l * 1024;
    get_bool(p, "nomigrate", &bi->disable_migrate);
    if (present(p, "tsc_mode")) {
        if (get_str(p, "tsc_mode", &v) == 1) {
            if (ts_parse_long(v, &l) == 0) {
                if (l < LIBXL_TSC_MODE_DEFAULT || l > LIBXL_TSC_MODE_NATIVE_PARAVIRT)
                    perr(p, "tsc_mode", "%ld is not a tsc mode", l);
                else
                    bi->tsc_mode = (libxl_tsc_mode)l;
            } else if (libxl_tsc_mode_from_string(v, &bi->tsc_mode)) {
                perr(p, "tsc_mode", "'%s' is not default, always_emulate, native or "
                     "native_paravirt", v);
            }
        }
    }
    if (get_long(p, "rtc_timeoffset", INT_MIN, INT_MAX, &l) == 1)
        bi->rtc_timeoffset = (uint32_t)l;
    get_bool(p, "localtime", &bi->localtime);
    if (get_long(p, "videoram", 1, 1024, &l) == 1)
        bi->video_memkb = (uint64_t)l * 1024;
    if (get_long(p, "max_event_channels", 1, INT_MAX, &l) == 1)
        bi->event_channels = (uint32_t)l;
    if (get_long(p, "max_grant_frames", 0, INT_MAX, &l) == 1)
        bi->max_grant_frames = (uint32_t)l;
    if (get_long(p, "max_maptrack_frames", 0, INT_MAX, &l) == 1)
        bi->max_maptrack_frames = (uint32_t)l;
    get_bool(p, "acpi", &bi->acpi);
    get_bool(p, "nestedhvm", &bi->nested_hvm);
    if (get_str(p, "timer_mode", &v) == 1 && p->c->dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM) {
        if (ts_parse_long(v, &l) == 0) {
            if (l < LIBXL_TIMER_MODE_DELAY_FOR_MISSED_TICKS ||
                l > LIBXL_TIMER_MODE_ONE_MISSED_TICK_PENDING)
                perr(p, "timer_mode", "%ld is not a timer mode", l);
            else
                bi->timer_mode = (libxl_timer_mode)l;
        } else if (libxl_timer_mode_from_string(v, &bi->timer_mode)) {
            perr(p, "timer_mode", "'%s' is not a timer mode", v);
        }
    }
}

static void parse_cpuid(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    XLU_ConfigList *l;
    const char *v;
    int n, i, e;

    if (!present(p, "cpuid"))
        return;
    if (!xlu_cfg_get_list(p->cfg, "cpuid", &l, &n, 1)) {
        /* xend's form: [ "leaf:reg=bits,...", ... ] */
        for (i = 0; (v = xlu_cfg_get_listitem(l, i)); i++) {
            e = libxl_cpuid_parse_config_xend(&bi->cpuid, v);
            if (e)
                perr(p, "cpuid", "entry %d '%s': %s", i + 1, v,
                     e == 1 ? "illegal leaf number" : e == 2 ? "illegal subleaf number" :
                     e == 3 ? "missing colon" : e == 4 ? "register must be eax..edx" :
                     e == 5 ? "policy must be 32 characters" : "not valid");
        }
        return;
    }
    if (get_str(p, "cpuid", &v) != 1)
        return;
    {
        char *buf = ts_strdup(v), *save = NULL, *tok;

        tok = strtok_r(buf, ",", &save);
        if (!tok || strcmp(tok, "host")) {
            perr(p, "cpuid", "'%s': the first word must be \"host\"", v);
            free(buf);
            return;
        }
        while ((tok = strtok_r(NULL, ",", &save))) {
            e = libxl_cpuid_parse_config(&bi->cpuid, tok);
            if (e)
                perr(p, "cpuid", "'%s': %s", tok,
                     e == 1 ? "missing '=' in key=value" : e == 2 ? "unknown CPUID flag" :
                     e == 3 ? "value must be 0, 1, x, k or s" : "not valid");
        }
        free(buf);
    }
}

/* ---- disks ------------------------------------------------------------------------------------ */

static void parse_disks(struct pctx *p)
{
    libxl_domain_config *dc = &p->c->dc;
    XLU_ConfigList *l;
    const char *spec;
    int n, i, e;

    if (get_list(p, "disk", &l, &n) != 1)
        return;
    for (i = 0; (spec = xlu_cfg_get_listitem(l, i)); i++) {
        libxl_device_disk *disk;
        libxl_device_disk *nd = realloc(dc->disks, (size_t)(dc->num_disks + 1) * sizeof(*nd));

        if (!nd) {
            p->rc = -ENOMEM;
            return;
        }
        dc->disks = nd;
        disk = &dc->disks[dc->num_disks++];
        libxl_device_disk_init(disk);
        e = xlu_disk_parse(p->cfg, 1, &spec, disk);
        if (e) {
            perr(p, "disk", "entry %d '%s': %s", i + 1, spec,
                 e == EINVAL ? "not a valid disk spec (see xl-disk-configuration(5))"
                             : strerror(e));
            continue;
        }
        if (!disk->vdev) {
            perr(p, "disk", "entry %d '%s': no vdev= (e.g. xvda, hda, hdc)", i + 1, spec);
            continue;
        }
        /* an empty CD-ROM drive has no file; everything else must be there */
        if (disk->pdev_path && *disk->pdev_path && disk->format != LIBXL_DISK_FORMAT_EMPTY) {
            char what[64];

            snprintf(what, sizeof(what), "entry %d (%s): target", i + 1, disk->vdev);
            check_file(p, "disk", what, disk->pdev_path);
        } else if (!disk->is_cdrom) {
            perr(p, "disk", "entry %d (%s): no target file", i + 1, disk->vdev);
        }
    }
}

/* ---- network interfaces (xl's vif spec: KEY=VALUE,KEY=VALUE) ------------------------------- */

static int parse_mac(const char *s, libxl_mac mac)
{
    int i;

    for (i = 0; i < 6; i++) {
        char *end;
        unsigned long v;

        if (!isxdigit((unsigned char)s[0]))
            return -EINVAL;
        v = strtoul(s, &end, 16);
        if (end == s || end - s > 2 || v > 255)
            return -EINVAL;
        mac[i] = (uint8_t)v;
        s = end;
        if (i < 5) {
            if (*s != ':' && *s != '-')
                return -EINVAL;
            s++;
        }
    }
    return *s ? -EINVAL : 0;
}

static int parse_nic_token(struct pctx *p, int idx, libxl_device_nic *nic, const char *tok)
{
    const char *eq = strchr(tok, '=');
    char key[32];
    const char *val;
    size_t klen;
    long l;

    if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof(key)) {
        perr(p, "vif", "entry %d: '%s' is not KEY=VALUE", idx, tok);
        return -EINVAL;
    }
    klen = (size_t)(eq - tok);
    memcpy(key, tok, klen);
    key[klen] = '\0';
    val = eq + 1;

    if (!strcmp(key, "type")) {
        if (!strcmp(val, "vif"))
            nic->nictype = LIBXL_NIC_TYPE_VIF;
        else if (!strcmp(val, "ioemu"))
            nic->nictype = LIBXL_NIC_TYPE_VIF_IOEMU;
        else
            goto bad_value;
    } else if (!strcmp(key, "mac")) {
        if (parse_mac(val, nic->mac) < 0)
            goto bad_value;
        if (nic->mac[0] & 1) {
            perr(p, "vif", "entry %d: mac=%s is a multicast address (the first octet must be "
                 "even)", idx, val);
            return -EINVAL;
        }
    } else if (!strcmp(key, "bridge")) {
        free(nic->bridge);
        nic->bridge = ts_strdup(val);
    } else if (!strcmp(key, "gatewaydev") || !strcmp(key, "netdev")) {
        free(nic->gatewaydev);
        nic->gatewaydev = ts_strdup(val);
    } else if (!strcmp(key, "ip")) {
        free(nic->ip);
        nic->ip = ts_strdup(val);
    } else if (!strcmp(key, "script")) {
        free(nic->script);
        nic->script = ts_strdup(val);
    } else if (!strcmp(key, "backend")) {
        free(nic->backend_domname);
        nic->backend_domname = ts_strdup(val);
    } else if (!strcmp(key, "vifname")) {
        if (strlen(val) >= 16) {
            perr(p, "vif", "entry %d: vifname=%s is longer than 15 characters", idx, val);
            return -EINVAL;
        }
        free(nic->ifname);
        nic->ifname = ts_strdup(val);
    } else if (!strcmp(key, "model")) {
        free(nic->model);
        nic->model = ts_strdup(val);
    } else if (!strcmp(key, "rate")) {
        if (xlu_vif_parse_rate(p->cfg, val, nic))
            goto bad_value;
    } else if (!strcmp(key, "mtu")) {
        if (ts_parse_long(val, &l) < 0 || l < 68 || l > 65535)
            goto bad_value;
        nic->mtu = (int)l;
    } else {
        perr(p, "vif", "entry %d: unknown setting '%s' (type, mac, bridge, ip, script, "
             "backend, vifname, model, rate, mtu, gatewaydev)", idx, key);
        return -EINVAL;
    }
    return 0;
bad_value:
    perr(p, "vif", "entry %d: %s=%s is not valid", idx, key, val);
    return -EINVAL;
}

/*
 * The hvmctl network (`hvmctl network up`, the network side of hvmctl) keeps one state file per
 * network that is up in RUN_DIR/net/NAME (RUN_DIR: $HVMD_RUN_DIR or /run/hvmd), with lines
 * "name NAME", "mode bridge|route|nat" and "default 0|1". When one is up, a vif that names no
 * bridge and no script goes to the default network's bridge through hvmctl's own hotplug entry
 * (vif-hvmctl beside hvmd, or hvmctl itself, which answers libxl's hotplug calls).
 */
struct net_defaults {
    bool up;
    char bridge[32];            /* the default network's bridge ("" in route mode) */
    char *script;
};

static char *default_vif_script(void)
{
    char *hvmd = ts_default_hvmd_path(), *slash = strrchr(hvmd, '/'), *script, self[PATH_MAX];
    ssize_t n;

    if (slash) {
        *slash = '\0';
        script = ts_asprintf("%s/vif-hvmctl", hvmd);
        free(hvmd);
        if (access(script, X_OK) == 0)
            return script;
        free(script);
    } else {
        free(hvmd);
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    return ts_strdup(self);
}

static void read_net_defaults(struct net_defaults *nd)
{
    const char *run = getenv("HVMD_RUN_DIR");
    char dir[PATH_MAX], path[PATH_MAX + 256], line[256];
    char first[32] = "", first_mode[16] = "";
    int networks = 0;
    struct dirent *de;
    DIR *dp;

    memset(nd, 0, sizeof(*nd));
    snprintf(dir, sizeof(dir), "%s/net", run && *run ? run : "/run/hvmd");
    dp = opendir(dir);
    if (!dp)
        return;
    while ((de = readdir(dp))) {
        char name[32] = "", mode[16] = "";
        int is_default = 0;
        FILE *f;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof(line), f)) {
            if (sscanf(line, "name %31s", name) == 1 || sscanf(line, "mode %15s", mode) == 1)
                continue;
            sscanf(line, "default %d", &is_default);
        }
        fclose(f);
        if (!name[0])
            continue;
        networks++;
        if (!first[0] || strcmp(name, first) < 0) {
            snprintf(first, sizeof(first), "%s", name);
            snprintf(first_mode, sizeof(first_mode), "%s", mode);
        }
        if (is_default) {
            nd->up = true;
            snprintf(nd->bridge, sizeof(nd->bridge), "%s", strcmp(mode, "route") ? name : "");
        }
    }
    closedir(dp);
    if (!nd->up && networks > 0) {
        /* none marked default: the first by name, as `hvmctl network` takes it */
        nd->up = true;
        snprintf(nd->bridge, sizeof(nd->bridge), "%s", strcmp(first_mode, "route") ? first : "");
    }
    if (nd->up)
        nd->script = default_vif_script();
}

static void parse_nics(struct pctx *p)
{
    libxl_domain_config *dc = &p->c->dc;
    bool hvm = dc->c_info.type == LIBXL_DOMAIN_TYPE_HVM;
    XLU_ConfigList *l;
    const char *spec;
    int n, i;

    struct net_defaults nd;

    if (get_list(p, "vif", &l, &n) != 1)
        return;
    read_net_defaults(&nd);
    for (i = 0; (spec = xlu_cfg_get_listitem(l, i)); i++) {
        libxl_device_nic *nic;
        libxl_device_nic *nn = realloc(dc->nics, (size_t)(dc->num_nics + 1) * sizeof(*nn));
        char *buf, *tok, *save = NULL;

        if (!nn) {
            p->rc = -ENOMEM;
            return;
        }
        dc->nics = nn;
        nic = &dc->nics[dc->num_nics];
        libxl_device_nic_init(nic);
        nic->devid = dc->num_nics++;
        /* defaults: hvmctl's settings, else the hvmctl network when it is up, else libxl's */
        if (p->s->vif_bridge)
            nic->bridge = ts_strdup(p->s->vif_bridge);
        else if (nd.up && nd.bridge[0])
            nic->bridge = ts_strdup(nd.bridge);
        if (p->s->vif_script)
            nic->script = ts_strdup(p->s->vif_script);
        else if (nd.up && nd.script)
            nic->script = ts_strdup(nd.script);
        buf = ts_strdup(spec);
        for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ' || *tok == '\t')
                tok++;
            if (!*tok)
                continue;
            if (parse_nic_token(p, i + 1, nic, tok) < 0)
                break;
        }
        free(buf);
        /* an e1000: the NIC every OS has a driver for (hvmd and qemu-xen emulate it) */
        if (hvm && !nic->model)
            nic->model = ts_strdup("e1000");
    }
    free(nd.script);
}

/* ---- PV framebuffer from top-level vnc= (as xl does for PV guests) -------------------------- */

static void parse_vnc(struct pctx *p, libxl_vnc_info *vnc, libxl_sdl_info *sdl)
{
    long l;

    get_bool(p, "vnc", &vnc->enable);
    get_strdup(p, "vnclisten", &vnc->listen);
    get_strdup(p, "vncpasswd", &vnc->passwd);
    if (get_long(p, "vncdisplay", 0, 65535 - 5900, &l) == 1)
        vnc->display = (int)l;
    get_bool(p, "vncunused", &vnc->findunused);
    get_bool(p, "sdl", &sdl->enable);
    get_bool(p, "opengl", &sdl->opengl);
    get_strdup(p, "display", &sdl->display);
    get_strdup(p, "xauthority", &sdl->xauthority);
}

static void parse_pv_vfb(struct pctx *p)
{
    libxl_domain_config *dc = &p->c->dc;
    libxl_vnc_info vnc;
    libxl_sdl_info sdl;

    if (present(p, "vfb")) {
        perr(p, "vfb", "not supported by hvmctl (vnc = 1 gives a PV guest a framebuffer)");
        return;
    }
    libxl_vnc_info_init(&vnc);
    libxl_sdl_info_init(&sdl);
    parse_vnc(p, &vnc, &sdl);
    if (libxl_defbool_is_default(vnc.enable) || !libxl_defbool_val(vnc.enable)) {
        libxl_vnc_info_dispose(&vnc);
        libxl_sdl_info_dispose(&sdl);
        present(p, "keymap");
        return;
    }
    dc->vfbs = calloc(1, sizeof(*dc->vfbs));
    dc->vkbs = calloc(1, sizeof(*dc->vkbs));
    if (!dc->vfbs || !dc->vkbs) {
        p->rc = -ENOMEM;
        return;
    }
    libxl_device_vfb_init(&dc->vfbs[0]);
    libxl_device_vkb_init(&dc->vkbs[0]);
    dc->num_vfbs = dc->num_vkbs = 1;
    dc->vfbs[0].vnc = vnc;
    dc->vfbs[0].sdl = sdl;
    get_strdup(p, "keymap", &dc->vfbs[0].keymap);
}

/* ---- device model ----------------------------------------------------------------------------- */

static void parse_device_model(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    bool hvm = p->c->dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM;
    const char *v, *file;
    int line;

    if (present(p, "device_model"))
        pwarn(p, "device_model", "ignored, as xl does (device_model_override= names a binary)");
    get_strdup(p, "device_model_override", &bi->device_model);
    if (get_str(p, "device_model_version", &v) == 1) {
        if (!strcmp(v, "qemu-xen"))
            bi->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
        else if (!strcmp(v, "qemu-xen-traditional"))
            perr(p, "device_model_version", "qemu-xen-traditional is not in Xen 4.17 as Debian "
                 "builds it; use qemu-xen (or leave it out)");
        else
            perr(p, "device_model_version", "'%s' is not qemu-xen", v);
    }
    get_strdup(p, "device_model_user", &bi->device_model_user);
    get_bool(p, "dm_restrict", &bi->dm_restrict);
    get_string_list(p, "device_model_args", &bi->extra);
    get_string_list(p, "device_model_args_pv", &bi->extra_pv);
    get_string_list(p, "device_model_args_hvm", &bi->extra_hvm);

    if (bi->device_model) {
        struct stat st;

        if (bi->device_model[0] != '/')
            perr(p, "device_model_override", "'%s' is not an absolute path", bi->device_model);
        else if (stat(bi->device_model, &st) < 0 || access(bi->device_model, X_OK) < 0)
            perr(p, "device_model_override", "%s: %s", bi->device_model, strerror(errno));
        else if (!S_ISREG(st.st_mode))
            perr(p, "device_model_override", "%s: not an executable file", bi->device_model);
    }
    if (!hvm)
        return;
    /* HVM: hvmctl's default device model, unless the file names one */
    bi->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
    if (bi->device_model) {
        line = ts_config_key_line(p->c, "device_model_override", &file);
        p->c->dm_note = line ? ts_asprintf("%s (device_model_override, %s:%d)",
                                           bi->device_model, file, line)
                             : ts_asprintf("%s (device_model_override, %s)",
                                           bi->device_model, file);
        p->c->dm_is_hvmd = strstr(bi->device_model, "hvmd") != NULL;
        return;
    }
    switch (p->s->dm) {
    case TS_DM_QEMU:
        p->c->dm_note = ts_asprintf("qemu-xen (device_model in %s)",
                                    p->s->source ? p->s->source : TS_SETTINGS_FILE);
        break;
    case TS_DM_HVMD:
    case TS_DM_PATH:
        bi->device_model = ts_strdup(p->s->dm_path);
        p->c->dm_is_hvmd = p->s->dm == TS_DM_HVMD;
        if (p->s->dm_line)
            p->c->dm_note = ts_asprintf("%s (device_model in %s)", p->s->dm_path, p->s->source);
        else
            p->c->dm_note = ts_asprintf("%s (hvmctl's default; device_model = \"qemu-xen\" in "
                                        "%s selects qemu-xen)", p->s->dm_path,
                                        p->s->source ? p->s->source : TS_SETTINGS_FILE);
        if (access(p->s->dm_path, X_OK) < 0) {
            if (p->s->dm_line)
                ts_error_at(p->d, p->s->source, p->s->dm_line, "device_model", "%s: %s",
                            p->s->dm_path, strerror(errno));
            else
                ts_error_at(p->d, p->c->file, 0, NULL, "hvmd, hvmctl's default device model: "
                            "%s: %s (device_model = \"qemu-xen\" in %s selects qemu-xen)",
                            p->s->dm_path, strerror(errno),
                            p->s->source ? p->s->source : TS_SETTINGS_FILE);
            p->rc = -EINVAL;
        }
        break;
    }
}

/* PV and PVH: libxl starts a device model only for what is the device model's
 * (libxl__need_xenpv_qemu): here a qdisk disk (backendtype=qdisk, a format other than raw, a
 * CD-ROM) or a PV framebuffer (vnc = 1). hvmctl's default (hvmd, -machine xenpv) serves raw
 * qdisk disks; a framebuffer, another format or a CD-ROM keeps libxl's qemu-xen, and the note
 * says why. The file's device_model_override always wins. */
static bool disk_is_dms(const libxl_device_disk *d)
{
    return d->backend == LIBXL_DISK_BACKEND_QDISK || d->is_cdrom ||
           (d->format != LIBXL_DISK_FORMAT_UNKNOWN && d->format != LIBXL_DISK_FORMAT_RAW &&
            d->format != LIBXL_DISK_FORMAT_EMPTY);
}

static void pv_device_model(struct pctx *p)
{
    libxl_domain_config *dc = &p->c->dc;
    libxl_domain_build_info *bi = &dc->b_info;
    const char *why = NULL, *qd = NULL;
    int i;

    for (i = 0; i < dc->num_disks; i++) {
        const libxl_device_disk *d = &dc->disks[i];

        if (!disk_is_dms(d))
            continue;
        if (!qd)
            qd = d->vdev;
        if (d->is_cdrom)
            why = "a CD-ROM";
        else if (d->format != LIBXL_DISK_FORMAT_UNKNOWN && d->format != LIBXL_DISK_FORMAT_RAW)
            why = "a disk format other than raw";
    }
    if (dc->num_vfbs) {
        why = "a framebuffer (vnc = 1)";
        if (!qd)
            qd = "";
    }
    if (!qd || bi->device_model)
        return;     /* no device model, or the file's own (parse_device_model's note) */
    if (p->s->dm == TS_DM_QEMU || why) {
        p->c->dm_note = why ? ts_asprintf("qemu-xen (for %s, which hvmd does not serve to a "
                                          "%s guest)", why,
                                          libxl_domain_type_to_string(dc->c_info.type))
                            : ts_asprintf("qemu-xen (device_model in %s)",
                                          p->s->source ? p->s->source : TS_SETTINGS_FILE);
        return;
    }
    if (access(p->s->dm_path, X_OK) < 0) {
        ts_error_at(p->d, p->c->file, 0, NULL, "%s, the device model for disk %s (qdisk): %s "
                    "(device_model = \"qemu-xen\" in %s selects qemu-xen)", p->s->dm_path, qd,
                    strerror(errno), p->s->source ? p->s->source : TS_SETTINGS_FILE);
        p->rc = -EINVAL;
        return;
    }
    bi->device_model = ts_strdup(p->s->dm_path);
    bi->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
    p->c->dm_is_hvmd = p->s->dm == TS_DM_HVMD;
    p->c->dm_note = ts_asprintf("%s -machine xenpv (the backend of qdisk disk %s; %s)",
                                p->s->dm_path, qd,
                                p->s->dm_line ? p->s->source : "hvmctl's default");
}

/* ---- HVM ------------------------------------------------------------------------------------- */

static void parse_hvm(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    const char *v;
    long l;
    int r;

    get_strdup(p, "firmware_override", &bi->u.hvm.firmware);
    get_strdup(p, "bios_path_override", &bi->u.hvm.system_firmware);
    if (get_str(p, "bios", &v) == 1 && libxl_bios_type_from_string(v, &bi->u.hvm.bios))
        perr(p, "bios", "'%s' is not seabios, rombios or ovmf", v);
    if (get_str(p, "firmware", &v) == 1) {
        if (!libxl_bios_type_from_string(v, &bi->u.hvm.bios))
            ;
        else if (!strcmp(v, "uefi"))
            bi->u.hvm.bios = LIBXL_BIOS_TYPE_OVMF;
        else if (strcmp(v, "bios"))
            bi->u.hvm.firmware = ts_strdup(v);
    }
    get_bool(p, "pae", &bi->u.hvm.pae);
    get_bool(p, "acpi_s3", &bi->u.hvm.acpi_s3);
    get_bool(p, "acpi_s4", &bi->u.hvm.acpi_s4);
    get_bool(p, "acpi_laptop_slate", &bi->u.hvm.acpi_laptop_slate);
    get_bool(p, "nx", &bi->u.hvm.nx);
    get_bool(p, "hpet", &bi->u.hvm.hpet);
    get_bool(p, "vpt_align", &bi->u.hvm.vpt_align);
    get_bool(p, "apic", &bi->apic);
    if (present(p, "viridian")) {
        /* hvmctl takes viridian as a boolean (xl also takes a list of enlightenments) */
        get_bool(p, "viridian", &bi->u.hvm.viridian);
    }
    if (get_long(p, "mmio_hole", 256, 3840, &l) == 1)
        bi->u.hvm.mmio_hole_memkb = (uint64_t)l * 1024;
    get_strdup(p, "smbios_firmware", &bi->u.hvm.smbios_firmware);
    get_strdup(p, "acpi_firmware", &bi->u.hvm.acpi_firmware);

    parse_vnc(p, &bi->u.hvm.vnc, &bi->u.hvm.sdl);
    get_strdup(p, "keymap", &bi->u.hvm.keymap);
    get_bool(p, "nographic", &bi->u.hvm.nographic);

    /* vga: the file's, else hvmctl's default (stdvga) */
    if (get_str(p, "vga", &v) == 1) {
        if (!strcmp(v, "stdvga"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
        else if (!strcmp(v, "cirrus"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
        else if (!strcmp(v, "none"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_NONE;
        else if (!strcmp(v, "qxl"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_QXL;
        else
            perr(p, "vga", "'%s' is not stdvga, cirrus, none or qxl", v);
    } else if (get_long(p, "stdvga", 0, 1, &l) == 1) {
        bi->u.hvm.vga.kind = l ? LIBXL_VGA_INTERFACE_TYPE_STD : LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
    } else if (!present(p, "vga") && !present(p, "stdvga") && p->s->vga) {
        if (!strcmp(p->s->vga, "cirrus"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
        else if (!strcmp(p->s->vga, "none"))
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_NONE;
        else
            bi->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
    }
    if (get_str(p, "hdtype", &v) == 1 && libxl_hdtype_from_string(v, &bi->u.hvm.hdtype))
        perr(p, "hdtype", "'%s' is not ide or ahci", v);

    /* serial: a string or a list; default hvmctl's (a pty, what `hvmctl console` opens) */
    if (present(p, "serial")) {
        r = xlu_cfg_get_list_as_string_list(p->cfg, "serial", &bi->u.hvm.serial_list, 1);
        if (r == EINVAL) {
            if (xlu_cfg_get_string(p->cfg, "serial", &v, 1))
                perr(p, "serial", "must be a string or a list of strings");
            else
                bi->u.hvm.serial = ts_strdup(v);
        } else if (r) {
            perr(p, "serial", "cannot be read");
        }
    } else if (p->s->serial) {
        bi->u.hvm.serial = ts_strdup(p->s->serial);
    }
    if (get_str(p, "boot", &v) == 1) {
        const char *q;

        for (q = v; *q; q++)
            if (*q != 'a' && *q != 'c' && *q != 'd' && *q != 'n')
                break;
        if (*q || !*v || strlen(v) > 4)
            perr(p, "boot", "'%s': a string of a (floppy), c (disk), d (CD-ROM), n (network)", v);
        else
            bi->u.hvm.boot = ts_strdup(v);
    }
    get_bool(p, "usb", &bi->u.hvm.usb);
    if (get_long(p, "usbversion", 1, 3, &l) == 1)
        bi->u.hvm.usbversion = (int)l;
    if (present(p, "usbdevice")) {
        r = xlu_cfg_get_list_as_string_list(p->cfg, "usbdevice", &bi->u.hvm.usbdevice_list, 1);
        if (r == EINVAL && !xlu_cfg_get_string(p->cfg, "usbdevice", &v, 1))
            bi->u.hvm.usbdevice = ts_strdup(v);
        else if (r)
            perr(p, "usbdevice", "must be a string or a list of strings");
    }
    get_bool(p, "vkb_device", &bi->u.hvm.vkb_device);
    get_strdup(p, "soundhw", &bi->u.hvm.soundhw);
    get_bool(p, "xen_platform_pci", &bi->u.hvm.xen_platform_pci);
    if (get_str(p, "vendor_device", &v) == 1 &&
        libxl_vendor_device_from_string(v, &bi->u.hvm.vendor_device))
        perr(p, "vendor_device", "'%s' is not none or xenserver", v);
}

/* Does USER exist, as libxl looks it up (getpwnam)? HVMCTL_PASSWD names another password file
 * (the unit tests'). */
static bool dm_user_exists(const char *user)
{
    const char *alt = getenv("HVMCTL_PASSWD");
    if (!alt || !*alt)
        return getpwnam(user) != NULL;
    FILE *f = fopen(alt, "r");
    bool found = false;
    struct passwd *pw;
    while (f && !found && (pw = fgetpwent(f)))
        found = !strcmp(pw->pw_name, user);
    if (f)
        fclose(f);
    return found;
}

/* dm_restrict (dm/RESTRICT.md): on by default for hvmd guests; the file's dm_restrict= wins.
 * libxl needs a user to run the device model as: device_model_user=, or xen-qemuuser-range-base
 * (uid base + domid per guest), or xen-qemuuser-shared. With none of them, the default falls
 * back to an unrestricted hvmd with a warning saying how to add one (a default must not make
 * create fail on a host that has not been set up for it); a file that asks for dm_restrict = 1
 * without them is refused here, with the same advice, rather than by libxl half-way. */
static void hvmd_restrict_default(struct pctx *p)
{
    libxl_domain_build_info *bi = &p->c->dc.b_info;
    bool user = bi->device_model_user || dm_user_exists("xen-qemuuser-range-base") ||
                dm_user_exists("xen-qemuuser-shared");
    static const char how[] = "add the user xen-qemuuser-range-base (a uid per guest: base + "
                              "domain id) or xen-qemuuser-shared to dom0, or set "
                              "device_model_user=";
    if (!libxl_defbool_is_default(bi->dm_restrict)) {
        if (libxl_defbool_val(bi->dm_restrict) && !user)
            perr(p, "dm_restrict", "needs a user to run the device model as: %s", how);
        return;
    }
    if (!user) {
        pwarn(p, NULL, "hvmd runs as root, not deprivileged (hvmctl's default dm_restrict = 1 "
              "needs a user): %s; dm_restrict = 0 in the file silences this", how);
        return;
    }
    libxl_defbool_set(&bi->dm_restrict, true);
}

/* An HVM guest under hvmd gets the defaults it gets under qemu-xen: hvmctl's vga (stdvga) unless
 * its file has vga= or stdvga= (hvmd serves the standard VGA, also for "cirrus"; vga = "none"
 * gives none), libxl's PV keyboard (pvdrivers/vkbd.c), libxl's VNC console.
 * A vif's emulated NIC (type=ioemu, libxl's default for HVM) must be a model hvmd emulates:
 * e1000 (hvmctl's default when the entry names no model) or rtl8139; another is an error on its
 * line. And dm_restrict, hvmd_restrict_default's. */
static void hvmd_defaults(struct pctx *p)
{
    if (!p->c->dm_is_hvmd)
        return;
    hvmd_restrict_default(p);
    for (int i = 0; i < p->c->dc.num_nics; i++) {
        const libxl_device_nic *nic = &p->c->dc.nics[i];
        if (nic->nictype == LIBXL_NIC_TYPE_VIF || !nic->model || !strcmp(nic->model, "rtl8139") ||
            !strcmp(nic->model, "e1000"))
            continue;
        perr(p, "vif", "entry %d: model=%s: hvmd emulates rtl8139 (the default) and e1000; run "
             "this guest under qemu-xen, or make the entry type=vif (a PV network interface "
             "only)", i + 1, nic->model);
        break;
    }
}

/* ---- the whole file ----------------------------------------------------------------------------- */

static char *quote_override(const char *kv)
{
    const char *eq = strchr(kv, '=');
    const char *v, *q;
    char *out, *o;
    bool plain_number = true;

    if (!eq)
        return NULL;
    v = eq + 1;
    if (*v == '"' || *v == '\'' || *v == '[')
        return ts_strdup(kv);
    if (!*v)
        plain_number = false;
    for (q = v; *q; q++)
        if (!isxdigit((unsigned char)*q) && *q != 'x')
            plain_number = false;
    if (plain_number && isdigit((unsigned char)*v))
        return ts_strdup(kv);
    /* a bare word: quote it, so that name=web1 works as name="web1" */
    out = malloc((size_t)(eq - kv) + 2 * strlen(v) + 4);
    if (!out)
        return NULL;
    memcpy(out, kv, (size_t)(eq - kv) + 1);
    o = out + (eq - kv) + 1;
    *o++ = '"';
    for (q = v; *q; q++) {
        if (*q == '"' || *q == '\\')
            *o++ = '\\';
        *o++ = *q;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static bool valid_override_key(const char *kv)
{
    const char *q = kv;

    if (!(*q >= 'a' && *q <= 'z'))
        return false;
    while (*q && *q != '=' && !(*q == '+' && q[1] == '=')) {
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_'))
            return false;
        q++;
    }
    return *q != '\0';
}

/* xl's `xl create FILE 'k=v; k2=v2'`: an argument may hold several settings, separated by ';'
 * outside quotes and brackets. Each piece, its blanks trimmed and the empty ones dropped, into
 * a new array (*out, *nout); 0 or -ENOMEM. */
static int split_overrides(const char *const *args, int n, char ***out, int *nout)
{
    size_t cap = 0;
    int k;

    *out = NULL;
    *nout = 0;
    for (k = 0; k < n; k++)
        cap += strlen(args[k]) / 2 + 1;
    *out = calloc(cap + 1, sizeof(char *));
    if (!*out)
        return -ENOMEM;
    for (k = 0; k < n; k++) {
        const char *a = args[k], *start = a, *q;
        char quote = 0;
        int depth = 0;

        for (q = a;; q++) {
            if (quote) {
                if (*q == '\\' && q[1])
                    q++;
                else if (*q == quote)
                    quote = 0;
                if (*q)
                    continue;
            }
            if (*q == '"' || *q == '\'')
                quote = *q;
            else if (*q == '[')
                depth++;
            else if (*q == ']' && depth)
                depth--;
            if (*q && (*q != ';' || depth || quote))
                continue;
            const char *b = start, *e = q;
            while (b < e && isspace((unsigned char)*b))
                b++;
            while (e > b && isspace((unsigned char)e[-1]))
                e--;
            if (e > b) {
                (*out)[*nout] = strndup(b, (size_t)(e - b));
                if (!(*out)[(*nout)++])
                    return -ENOMEM;
            }
            if (!*q)
                break;
            start = q + 1;
        }
    }
    return 0;
}

static void free_strv(char **v, int n)
{
    for (int k = 0; v && k < n; k++)
        free(v[k]);
    free(v);
}

int ts_config_parse(struct ts_config *c, const char *file, const char *text, size_t len,
                    const char *const *args, int nargs, const struct ts_settings *s,
                    struct ts_diag *d)
{
    struct pctx p = { .c = c, .s = s, .d = d, .rc = 0 };
    size_t total, i;
    char *w;
    int k;

    memset(c, 0, sizeof(*c));
    libxl_domain_config_init(&c->dc);
    c->file = ts_strdup(file);
    c->file_lines = 1;
    for (i = 0; i < len; i++)
        if (text[i] == '\n')
            c->file_lines++;

    /* the text libxlutil parses: the file, then each override on a line of its own */
    char **overrides;
    int n;
    if (split_overrides(args, nargs, &overrides, &n) < 0) {
        free_strv(overrides, n);
        return -ENOMEM;
    }
    total = len + 2;
    c->overrides = calloc((size_t)n + 1, sizeof(char *));
    if (!c->overrides) {
        free_strv(overrides, n);
        return -ENOMEM;
    }
    for (k = 0; k < n; k++) {
        if (!valid_override_key(overrides[k])) {
            ts_error_at(d, "command line", 0, NULL, "'%s' is not KEY=VALUE", overrides[k]);
            p.rc = -EINVAL;
            continue;
        }
        c->overrides[c->n_overrides] = quote_override(overrides[k]);
        if (!c->overrides[c->n_overrides]) {
            free_strv(overrides, n);
            return -ENOMEM;
        }
        total += strlen(c->overrides[c->n_overrides++]) + 1;
    }
    free_strv(overrides, n);
    if (p.rc)
        return p.rc;
    c->data = malloc(total + 1);
    if (!c->data)
        return -ENOMEM;
    memcpy(c->data, text, len);
    w = c->data + len;
    *w++ = '\n';
    for (k = 0; k < c->n_overrides; k++) {
        size_t l = strlen(c->overrides[k]);
        memcpy(w, c->overrides[k], l);
        w += l;
        *w++ = '\n';
    }
    *w = '\0';
    c->len = (size_t)(w - c->data);

    if (ts_cfgscan(c->data, c->len, &c->scan) < 0)
        return -ENOMEM;
    p.cfg = xlu_cfg_init(d && d->out ? d->out : stderr, file);
    if (!p.cfg)
        return -ENOMEM;
    if (xlu_cfg_readdata(p.cfg, c->data, (int)c->len)) {
        /* libxlutil has said where ("FILE:LINE: config parsing error near ...") */
        if (d)
            d->errors++;
        xlu_cfg_destroy(p.cfg);
        return -EINVAL;
    }

    parse_type(&p);
    libxl_domain_build_info_init_type(&c->dc.b_info, c->dc.c_info.type);
    parse_name(&p);
    parse_misc(&p);
    parse_sched(&p);
    parse_memory_vcpus(&p);
    get_action(&p, "on_poweroff", "destroy", &c->dc.on_poweroff);
    get_action(&p, "on_reboot", "restart", &c->dc.on_reboot);
    get_action(&p, "on_crash", "destroy", &c->dc.on_crash);
    get_action(&p, "on_watchdog", "destroy", &c->dc.on_watchdog);
    get_action(&p, "on_soft_reset", "soft-reset", &c->dc.on_soft_reset);
    parse_boot_files(&p);
    parse_cpuid(&p);
    parse_disks(&p);
    parse_nics(&p);
    parse_device_model(&p);
    if (c->dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM) {
        parse_hvm(&p);
        hvmd_defaults(&p);
    } else {
        if (c->dc.c_info.type == LIBXL_DOMAIN_TYPE_PV)
            parse_pv_vfb(&p);
        pv_device_model(&p);
        for (i = 0; i < c->scan.n; i++) {
            struct ts_cfgkey *key = &c->scan.keys[i];
            if (!key->used && in_list(hvm_only_keys, key->name)) {
                pwarn(&p, key->name, "only HVM guests use this; ignored for a %s guest",
                      libxl_domain_type_to_string(c->dc.c_info.type));
                key->used = true;
            }
        }
    }
    /* what is left: keys xl knows that hvmctl does not take, and keys nobody knows */
    for (i = 0; i < c->scan.n; i++) {
        struct ts_cfgkey *key = &c->scan.keys[i];

        if (key->used)
            continue;
        if (in_list(unsupported_keys, key->name))
            perr(&p, key->name, "not supported by hvmctl");
        else if (!strcmp(key->name, "vnc") || !strcmp(key->name, "vnclisten") ||
                 !strcmp(key->name, "vncdisplay") || !strcmp(key->name, "vncunused") ||
                 !strcmp(key->name, "vncpasswd") || !strcmp(key->name, "sdl") ||
                 !strcmp(key->name, "keymap") || !strcmp(key->name, "opengl"))
            pwarn(&p, key->name, "not used by a %s guest; ignored",
                  libxl_domain_type_to_string(c->dc.c_info.type));
        else
            pwarn(&p, key->name, "unknown key, ignored");
    }
    xlu_cfg_destroy(p.cfg);
    return p.rc;
}

int ts_config_read(const char *file, char **text, size_t *len, struct ts_diag *d)
{
    int rc = ts_read_file(file, text, len);

    if (rc < 0) {
        ts_error_at(d, file, 0, NULL, "cannot read: %s", strerror(-rc));
        return -EINVAL;
    }
    if (memchr(*text, '\0', *len)) {
        ts_error_at(d, file, 0, NULL, "is not a text file (a NUL byte in it)");
        free(*text);
        *text = NULL;
        return -EINVAL;
    }
    return 0;
}

void ts_config_free(struct ts_config *c)
{
    int k;

    libxl_domain_config_dispose(&c->dc);
    free(c->file);
    free(c->data);
    for (k = 0; c->overrides && k < c->n_overrides; k++)
        free(c->overrides[k]);
    free(c->overrides);
    ts_cfgscan_free(&c->scan);
    free(c->dm_note);
    memset(c, 0, sizeof(*c));
}

/* ---- checks against the host (need Xen) ------------------------------------------------------ */

int ts_config_check_host(struct ts_config *c, libxl_ctx *ctx, struct ts_diag *d)
{
    libxl_domain_config copy;
    const char *file;
    uint32_t domid;
    uint64_t need_kb = 0, free_kb = 0;
    int line, rc = 0, i;

    if (c->dc.c_info.name && !libxl_name_to_domid(ctx, c->dc.c_info.name, &domid)) {
        line = ts_config_key_line(c, "name", &file);
        ts_error_at(d, file, line, "name", "a domain named '%s' already exists (id %u)",
                    c->dc.c_info.name, domid);
        rc = -EINVAL;
    }
    libxl_domain_config_init(&copy);
    libxl_domain_config_copy(ctx, &copy, &c->dc);
    if (!libxl_domain_need_memory(ctx, &copy, INVALID_DOMID, &need_kb) &&
        !libxl_get_free_memory(ctx, &free_kb) && need_kb > free_kb) {
        line = ts_config_key_line(c, "memory", &file);
        ts_error_at(d, file, line, "memory",
                    "%" PRIu64 " MB (%" PRIu64 " MB with Xen's overhead) is more than the %"
                    PRIu64 " MB the host has free", copy.b_info.target_memkb / 1024,
                    (need_kb + 1023) / 1024, free_kb / 1024);
        rc = -EINVAL;
    }
    libxl_domain_config_dispose(&copy);
    /* a vif names a bridge the vif-bridge script will need */
    for (i = 0; i < c->dc.num_nics; i++) {
        libxl_device_nic *nic = &c->dc.nics[i];
        const char *br = nic->bridge ? nic->bridge : "xenbr0";
        char path[128];
        struct stat st;

        if (nic->script && !strstr(nic->script, "bridge"))
            continue;
        if (nic->backend_domname)
            continue;
        snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", br);
        if (stat(path, &st) < 0) {
            line = ts_config_key_line(c, "vif", &file);
            ts_error_at(d, file, line, "vif", "entry %d: bridge '%s' does not exist "
                        "(`hvmctl network up` makes one)", i + 1, br);
            rc = -EINVAL;
        }
    }
    return rc;
}
