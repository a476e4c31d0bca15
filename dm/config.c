/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line parsing (see config.h). */
#include "dm/config.h"
#include "dm/block.h"
#include "dm/sandbox.h"
#include "dm/vnc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena {
    char *buf;
    size_t used, size;
};

/* The arena is sized for the worst case up front (config_parse), so these cannot fail. */
static char *arena_alloc(struct arena *a, size_t n)
{
    char *p = a->buf + a->used;
    a->used += n + 1;
    p[n] = 0;
    return p;
}

static char *arena_dup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Split "first,k=v,k2=v2" (",," is a literal comma) into O, cleared first; a leading bare
 * word goes to O->first ("" if none). */
static int split_kv(struct arena *a, struct cfg_opt *o, const char *s, const char *option,
                    char *err, size_t errlen)
{
    size_t len = strlen(s);
    char *tmp = arena_alloc(a, len); /* room for the unescaped text */
    const char *p = s;
    int first = 1;

    memset(o, 0, sizeof(*o));
    o->first = (char *)"";
    while (1) {
        char *out = tmp;
        while (*p) {
            if (*p == ',') {
                if (p[1] == ',') {
                    *out++ = ',';
                    p += 2;
                    continue;
                }
                break;
            }
            *out++ = *p++;
        }
        *out = 0;
        char *item = arena_dup(a, tmp, (size_t)(out - tmp));
        char *eq = strchr(item, '=');
        if (!eq) {
            if (first) {
                o->first = item;
            } else if (*item) {
                /* a bare flag: key with empty value */
                if (o->n_kv == CFG_MAX_KV)
                    return fail(err, errlen, "%s %s: too many parameters", option, s);
                o->kv[o->n_kv].key = item;
                o->kv[o->n_kv].val = (char *)"";
                o->n_kv++;
            }
        } else {
            *eq = 0;
            if (!*item)
                return fail(err, errlen, "%s %s: a parameter without a name", option, s);
            if (o->n_kv == CFG_MAX_KV)
                return fail(err, errlen, "%s %s: too many parameters", option, s);
            o->kv[o->n_kv].key = item;
            o->kv[o->n_kv].val = eq + 1;
            o->n_kv++;
        }
        first = 0;
        if (!*p)
            break;
        p++;
    }
    return 0;
}

const char *cfg_get(const struct cfg_opt *o, const char *key)
{
    for (unsigned i = 0; i < o->n_kv; i++)
        if (!strcmp(o->kv[i].key, key))
            return o->kv[i].val;
    return NULL;
}

struct cfg_opt *cfg_nth(struct config *cfg, const char *option, unsigned n)
{
    for (unsigned i = 0; i < cfg->n_opts; i++)
        if (!strcmp(cfg->opts[i].option, option) && n-- == 0)
            return &cfg->opts[i];
    return NULL;
}

struct cfg_opt *cfg_device(struct config *cfg, const char *driver, unsigned n)
{
    for (unsigned i = 0; i < cfg->n_opts; i++)
        if (!strcmp(cfg->opts[i].option, "-device") && !strcmp(cfg->opts[i].first, driver) &&
            n-- == 0)
            return &cfg->opts[i];
    return NULL;
}

struct cfg_opt *cfg_by_id(struct config *cfg, const char *option, const char *id)
{
    for (unsigned i = 0; i < cfg->n_opts; i++) {
        const char *v = cfg_get(&cfg->opts[i], "id");
        if (!strcmp(cfg->opts[i].option, option) && v && !strcmp(v, id))
            return &cfg->opts[i];
    }
    return NULL;
}

const struct cfg_opt *cfg_unclaimed(const struct config *cfg)
{
    for (unsigned i = 0; i < cfg->n_opts; i++)
        if (!cfg->opts[i].claimed)
            return &cfg->opts[i];
    return NULL;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

/* -m N[M|G] (MiB), or size=N[M|G] */
static int parse_mem(const char *s, uint64_t *mb)
{
    char buf[32];
    if (!strncmp(s, "size=", 5))
        s += 5;
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n + 1);
    uint64_t mul = 1;
    if (buf[n - 1] == 'M' || buf[n - 1] == 'm') {
        buf[n - 1] = 0;
    } else if (buf[n - 1] == 'G' || buf[n - 1] == 'g') {
        buf[n - 1] = 0;
        mul = 1024;
    }
    if (parse_u64(buf, mb) < 0 || *mb == 0 || *mb > (1ull << 30) / mul)
        return -1;
    *mb *= mul;
    return 0;
}

static int add_opt(struct arena *a, struct config *cfg, const char *option, const char *arg,
                   char *err, size_t errlen)
{
    if (cfg->n_opts == CFG_MAX_OPTS)
        return fail(err, errlen, "too many %s options (at most %d of all kinds)", option,
                    CFG_MAX_OPTS);
    struct cfg_opt *o = &cfg->opts[cfg->n_opts];
    int r = split_kv(a, o, arg, option, err, errlen);
    if (r < 0)
        return r;
    o->option = option;
    o->raw = arena_dup(a, arg, strlen(arg));
    cfg->n_opts++;
    return 0;
}

/* O's leading bare word, or else the value of KEY ("-boot order=dc" as "-boot dc"), or NULL. */
static const char *lead(const struct cfg_opt *o, const char *key)
{
    return *o->first ? o->first : cfg_get(o, key);
}

int cfg_xenpv(const struct config *cfg)
{
    return cfg && cfg->machine && !strcmp(cfg->machine, "xenpv");
}

static int parse_machine(struct arena *a, struct config *cfg, const char *arg, char *err, size_t errlen)
{
    struct cfg_opt o;
    int r = split_kv(a, &o, arg, "-machine", err, errlen);
    if (r < 0)
        return r;
    const char *type = lead(&o, "type");
    if (!type)
        return fail(err, errlen, "-machine %s: no machine type", arg);
    if (!strcmp(type, "xenfv")) {
        cfg->xen_platform = 1;
    } else if (!strcmp(type, "pc")) {
        cfg->xen_platform = 0;
    } else if (!strcmp(type, "xenpv")) {
        cfg->xen_platform = 0; /* a PV or PVH guest: PV backends only (machine.c) */
    } else {
        return fail(err, errlen, "-machine %s: unknown machine type '%s' (hvmd knows xenfv, pc "
                    "and xenpv)",
                    arg, type);
    }
    cfg->machine = type;
    for (unsigned i = 0; i < o.n_kv; i++) {
        const char *k = o.kv[i].key, *v = o.kv[i].val;
        if (!strcmp(k, "type") || !strcmp(k, "suppress-vmdesc")) {
            continue;
        } else if (!strcmp(k, "accel")) {
            if (strcmp(v, "xen"))
                return fail(err, errlen, "-machine %s: accel=%s: hvmd runs on Xen only", arg, v);
        } else if (!strcmp(k, "max-ram-below-4g")) {
            uint64_t x;
            if (parse_u64(v, &x) < 0 || x == 0 || x > (1ull << 32))
                return fail(err, errlen, "-machine %s: bad max-ram-below-4g '%s'", arg, v);
            cfg->max_ram_below_4g = x;
        } else {
            return fail(err, errlen, "-machine %s: '%s' is not supported by hvmd", arg, k);
        }
    }
    return 0;
}

static int parse_boot(struct arena *a, struct config *cfg, const char *arg, char *err, size_t errlen)
{
    struct cfg_opt o;
    int r = split_kv(a, &o, arg, "-boot", err, errlen);
    if (r < 0)
        return r;
    const char *order = lead(&o, "order");
    for (unsigned i = 0; i < o.n_kv; i++)
        if (strcmp(o.kv[i].key, "order"))
            return fail(err, errlen, "-boot %s: '%s' is not supported by hvmd", arg, o.kv[i].key);
    if (!order || !*order || strlen(order) >= sizeof(cfg->boot_order))
        return fail(err, errlen, "-boot %s: expected order=LETTERS", arg);
    for (const char *p = order; *p; p++)
        if (!strchr("acdn", *p))
            return fail(err, errlen, "-boot %s: boot device '%c' unknown (a, c, d, n)", arg, *p);
    strcpy(cfg->boot_order, order);
    return 0;
}

static int parse_smp(struct arena *a, struct config *cfg, const char *arg, char *err, size_t errlen)
{
    struct cfg_opt o;
    uint64_t n = 0, m = 0;
    int r = split_kv(a, &o, arg, "-smp", err, errlen);
    if (r < 0)
        return r;
    const char *cpus = lead(&o, "cpus");
    if (!cpus || parse_u64(cpus, &n) < 0 || n == 0 || n > 128)
        return fail(err, errlen, "-smp %s: expected N[,maxcpus=M] with 1 <= N <= 128", arg);
    m = n;
    for (unsigned i = 0; i < o.n_kv; i++) {
        const char *k = o.kv[i].key;
        if (!strcmp(k, "cpus"))
            continue;
        if (strcmp(k, "maxcpus") || parse_u64(o.kv[i].val, &m) < 0 || m < n || m > 128)
            return fail(err, errlen, "-smp %s: bad or unsupported '%s'", arg, k);
    }
    cfg->smp = (unsigned)n;
    cfg->maxcpus = (unsigned)m;
    return 0;
}

/* -serial SPEC: pty, stdio, null, none, file:PATH, /dev/TTY */
static int check_serial(const char *s, char *err, size_t errlen)
{
    if (!strcmp(s, "pty") || !strcmp(s, "stdio") || !strcmp(s, "null") || !strcmp(s, "none"))
        return 0;
    if (!strncmp(s, "file:", 5) && s[5])
        return 0;
    if (!strncmp(s, "/dev/", 5))
        return 0;
    return fail(err, errlen, "-serial %s: not supported (hvmd knows pty, file:PATH, stdio, null, none, /dev/TTY)", s);
}

/* -io-error POLICY | werror=POLICY,rerror=POLICY: the error policies of drives whose -drive
 * names none (dm/block.h's blk_policy; one POLICY alone is both). */
static int parse_io_error(struct arena *a, struct config *cfg, const char *arg, char *err,
                          size_t errlen)
{
    enum blk_policy p;
    if (blk_parse_policy(arg, &p) == 0) {
        cfg->werror = cfg->rerror = (int)p;
        return 0;
    }
    char *copy = arena_dup(a, arg, strlen(arg));
    if (!copy)
        return fail(err, errlen, "out of memory");
    for (char *item = copy, *next; item && *item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *v = strchr(item, '=');
        int *dst = NULL;
        if (v) {
            *v++ = '\0';
            dst = !strcmp(item, "werror") ? &cfg->werror : !strcmp(item, "rerror") ? &cfg->rerror
                                                                                    : NULL;
        }
        if (!dst || blk_parse_policy(v, &p) < 0)
            return fail(err, errlen, "-io-error %s: expected report, ignore, stop or enospc, or "
                        "werror=POLICY,rerror=POLICY", arg);
        *dst = (int)p;
    }
    return 0;
}

/* -incoming fd:N (libxl: the saved device state, open read-only at position 0) or
 * file:PATH (hvmd opens it before its sandbox): the stream to load before the guest runs. */
static int parse_incoming(struct arena *a, struct config *cfg, const char *arg, char *err,
                          size_t errlen)
{
    if (!strncmp(arg, "fd:", 3)) {
        char *end;
        errno = 0;
        long n = strtol(arg + 3, &end, 10);
        if (errno || end == arg + 3 || *end || n < 0 || n > 65535)
            return fail(err, errlen, "-incoming %s: expected fd:N with N a descriptor number", arg);
        cfg->incoming_fd = (int)n;
        cfg->incoming = arena_dup(a, arg, strlen(arg));
        return 0;
    }
    if (!strncmp(arg, "file:", 5) && arg[5]) {
        cfg->incoming_path = arena_dup(a, arg + 5, strlen(arg + 5));
        cfg->incoming = arena_dup(a, arg, strlen(arg));
        return 0;
    }
    return fail(err, errlen, "-incoming %s: hvmd loads device state from fd:N or file:PATH "
                "only (libxl passes fd:N), not from a migration channel", arg);
}

struct optdef {
    const char *name;
    int has_arg;
    const char *refuse; /* non-NULL: known, but hvmd cannot do it: why */
};

static const struct optdef optdefs[] = {
    { "-xen-domid", 1, NULL }, { "-no-shutdown", 0, NULL }, { "-chardev", 1, NULL },
    { "-mon", 1, NULL }, { "-nodefaults", 0, NULL }, { "-no-user-config", 0, NULL },
    { "-name", 1, NULL }, { "-vnc", 1, NULL }, { "-display", 1, NULL }, { "-kernel", 1, NULL },
    { "-initrd", 1, NULL }, { "-append", 1, NULL }, { "-serial", 1, NULL },
    { "-device", 1, NULL }, { "-drive", 1, NULL }, { "-netdev", 1, NULL }, { "-net", 1, NULL },
    { "-boot", 1, NULL }, { "-machine", 1, NULL }, { "-M", 1, NULL }, { "-m", 1, NULL },
    { "-smp", 1, NULL }, { "-S", 0, NULL }, { "-no-acpi", 0, NULL }, { "-nographic", 0, NULL },
    { "-vga", 1, NULL }, { "-L", 1, NULL }, { "--log-level", 1, NULL },
    { "-sandbox", 1, NULL },
    { "-io-error", 1, NULL },
    { "-usb", 0, NULL },
    { "-usbdevice", 1, NULL },
    { "-soundhw", 1, "sound is not emulated" },
    { "-spice", 1, "SPICE is not served" },
    { "-sdl", 0, "there is no SDL display" },
    { "-k", 1, NULL },
    { "-incoming", 1, NULL },
    { "-xen-domid-restrict", 0, NULL }, /* dm_restrict=1 (dm/restrict.h) */
    { "-chroot", 1, NULL },
    { "-runas", 1, NULL },
    { "-xen-attach", 0, NULL }, /* libxl's for PV and PVH guests, with -machine xenpv */
    { "-std-vga", 0, NULL },
    { "-vncunused", 0, NULL },
    { "-gfx_passthru", 0, "graphics pass-through is not supported" },
    { "-global", 1, "-global properties are not supported" },
    { "-object", 1, "-object is not supported" },
    { "-acpi", 0, NULL },
};

int config_parse(struct config *cfg, int argc, const char *const argv[], char *err, size_t errlen)
{
    struct arena a = { 0 };
    size_t total = 64;

    memset(cfg, 0, sizeof(*cfg));
    cfg->smp = cfg->maxcpus = 1;
    cfg->xen_platform = 1;
    cfg->machine = "xenfv";
    cfg->log_level = -1;
    cfg->incoming_fd = -1;
    const char *sb = getenv("HVMD_SANDBOX");
    if (sb && *sb) {
        cfg->sandbox = sandbox_mode_parse(sb);
        if (cfg->sandbox < 0)
            return fail(err, errlen, "HVMD_SANDBOX=%s: expected on, off or log", sb);
    }
    for (int i = 0; i < argc; i++)
        total += 5 * (strlen(argv[i]) + 2) + 16; /* raw copy, unescape room, items (<= 2n + 1) */
    a.size = total;
    a.buf = calloc(1, total);
    if (!a.buf)
        return fail(err, errlen, "out of memory");
    cfg->strings = a.buf;

    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        const struct optdef *d = NULL;
        for (unsigned k = 0; k < ARRAY_SIZE(optdefs); k++)
            if (!strcmp(optdefs[k].name, opt))
                d = &optdefs[k];
        if (!d) {
            config_free(cfg);
            return fail(err, errlen, "%s: unknown option%s", opt,
                        opt[0] == '-' ? "" : " (every argument must follow an option)");
        }
        const char *arg = NULL;
        if (d->has_arg) {
            if (i + 1 >= argc) {
                config_free(cfg);
                return fail(err, errlen, "%s: needs an argument", opt);
            }
            arg = argv[++i];
        }
        if (d->refuse) {
            config_free(cfg);
            if (arg)
                return fail(err, errlen, "%s %s: not supported by hvmd: %s", opt, arg, d->refuse);
            return fail(err, errlen, "%s: not supported by hvmd: %s", opt, d->refuse);
        }
        int r = 0;
        uint64_t v;
        if (!strcmp(opt, "-xen-domid")) {
            if (parse_u64(arg, &v) < 0 || v >= 0x7ff0)
                r = fail(err, errlen, "-xen-domid %s: not a domain id", arg);
            cfg->domid = (uint32_t)v;
            cfg->have_domid = 1;
        } else if (!strcmp(opt, "-no-shutdown")) {
            cfg->no_shutdown = 1;
        } else if (!strcmp(opt, "-nodefaults") || !strcmp(opt, "-no-user-config") ||
                   !strcmp(opt, "-acpi")) {
            /* hvmd has no default devices and reads no config file anyway */
        } else if (!strcmp(opt, "-name")) {
            cfg->name = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-vnc")) {
            r = vnc_check_args(arg, NULL, err, errlen);
            cfg->vnc = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-k")) {
            r = vnc_check_args(NULL, arg, err, errlen);
            cfg->keymap = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-vncunused")) {
            cfg->vnc_unused = 1; /* the old device model's "find a free display" */
        } else if (!strcmp(opt, "-display")) {
            if (strcmp(arg, "none"))
                r = fail(err, errlen, "-display %s: not supported by hvmd (only none)", arg);
        } else if (!strcmp(opt, "-std-vga")) {
            cfg->vga_std = 1; /* qemu-traditional's spelling of -vga std */
        } else if (!strcmp(opt, "-vga")) {
            if (!strcmp(arg, "std") || !strcmp(arg, "cirrus"))
                cfg->vga_std = 1; /* cirrus too: hvmd serves the standard VGA for it */
            else if (strcmp(arg, "none"))
                r = fail(err, errlen, "-vga %s: not supported by hvmd (std, cirrus: the standard "
                         "VGA; none)", arg);
        } else if (!strcmp(opt, "-net")) {
            if (strcmp(arg, "none"))
                r = fail(err, errlen, "-net %s: not supported by hvmd (use -device/-netdev)", arg);
        } else if (!strcmp(opt, "-kernel")) {
            cfg->kernel = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-initrd")) {
            cfg->initrd = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-append")) {
            cfg->append = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-serial")) {
            r = check_serial(arg, err, errlen);
            if (!r && cfg->n_serial == CFG_MAX_SERIAL)
                r = fail(err, errlen, "-serial %s: at most %d serial ports", arg, CFG_MAX_SERIAL);
            if (!r)
                cfg->serial[cfg->n_serial++] = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-device") || !strcmp(opt, "-drive") || !strcmp(opt, "-netdev") ||
                   !strcmp(opt, "-chardev") || !strcmp(opt, "-mon")) {
            const char *name = d->name; /* static storage */
            r = add_opt(&a, cfg, name, arg, err, errlen);
        } else if (!strcmp(opt, "-usb")) {
            cfg->usb = 1;
        } else if (!strcmp(opt, "-usbdevice")) {
            cfg->usb = 1; /* as in QEMU, a USB device brings its controller */
            r = add_opt(&a, cfg, "-usbdevice", arg, err, errlen);
        } else if (!strcmp(opt, "-boot")) {
            r = parse_boot(&a, cfg, arg, err, errlen);
        } else if (!strcmp(opt, "-machine") || !strcmp(opt, "-M")) {
            r = parse_machine(&a, cfg, arg, err, errlen);
        } else if (!strcmp(opt, "-m")) {
            if (parse_mem(arg, &cfg->mem_mb) < 0)
                r = fail(err, errlen, "-m %s: expected a size in MiB", arg);
        } else if (!strcmp(opt, "-smp")) {
            r = parse_smp(&a, cfg, arg, err, errlen);
        } else if (!strcmp(opt, "-S")) {
            cfg->start_stopped = 1;
        } else if (!strcmp(opt, "-incoming")) {
            r = parse_incoming(&a, cfg, arg, err, errlen);
        } else if (!strcmp(opt, "-no-acpi")) {
            cfg->no_acpi = 1;
        } else if (!strcmp(opt, "-nographic")) {
            cfg->nographic = 1;
        } else if (!strcmp(opt, "-sandbox")) {
            cfg->sandbox = sandbox_mode_parse(arg);
            if (cfg->sandbox < 0)
                r = fail(err, errlen, "-sandbox %s: expected on, off or log", arg);
        } else if (!strcmp(opt, "-xen-domid-restrict")) {
            cfg->restrict_.domid_restrict = 1;
        } else if (!strcmp(opt, "-chroot")) {
            r = restrict_check_chroot(arg, err, errlen);
            cfg->restrict_.chroot_dir = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "-runas")) {
            r = restrict_parse_runas(arg, &cfg->restrict_.uid, &cfg->restrict_.gid, err, errlen);
            cfg->restrict_.runas = 1;
        } else if (!strcmp(opt, "-io-error")) {
            r = parse_io_error(&a, cfg, arg, err, errlen);
        } else if (!strcmp(opt, "-L")) {
            cfg->fw_dir = arena_dup(&a, arg, strlen(arg));
        } else if (!strcmp(opt, "--log-level")) {
            static const char *const lv[] = { "error", "warning", "info", "debug" };
            cfg->log_level = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(arg, lv[k]))
                    cfg->log_level = k;
            if (cfg->log_level < 0)
                r = fail(err, errlen, "--log-level %s: expected error, warning, info or debug", arg);
        }
        if (r < 0) {
            config_free(cfg);
            return r;
        }
    }
    if (!cfg->have_domid) {
        config_free(cfg);
        return fail(err, errlen, "-xen-domid: missing (which domain is this device model for?)");
    }
    if (!cfg->mem_mb) {
        config_free(cfg);
        return fail(err, errlen, "-m: missing (the guest's memory size in MiB)");
    }
    if ((cfg->initrd || cfg->append) && !cfg->kernel) {
        config_free(cfg);
        return fail(err, errlen, "%s: needs -kernel", cfg->initrd ? "-initrd" : "-append");
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->strings);
    memset(cfg, 0, sizeof(*cfg));
}

static int ide_slot(struct cfg_ide ide[4], unsigned pos, enum cfg_media media, struct cfg_opt *drive,
                    struct cfg_opt *device, char *err, size_t errlen)
{
    if (pos > 3)
        return fail(err, errlen, "%s %s: IDE has positions 0-3 only", drive->option, drive->raw);
    if (ide[pos].media != CFG_MEDIA_NONE)
        return fail(err, errlen, "%s %s: IDE position %u is taken", drive->option, drive->raw, pos);
    const char *file = cfg_get(drive, "file");
    const char *ro = cfg_get(drive, "readonly");
    const char *fmt = cfg_get(drive, "format");
    if (fmt && strcmp(fmt, "raw"))
        return fail(err, errlen, "-drive %s: format=%s: hvmd reads raw images only", drive->raw, fmt);
    ide[pos].media = media;
    ide[pos].file = file && *file ? file : NULL;
    ide[pos].format = "raw";
    ide[pos].readonly = media == CFG_MEDIA_CDROM || (ro && (!strcmp(ro, "on") || !strcmp(ro, "")));
    ide[pos].id = device ? cfg_get(device, "id") : cfg_get(drive, "id");
    ide[pos].drive = drive;
    ide[pos].device = device;
    return 0;
}

int cfg_ide(struct config *cfg, struct cfg_ide ide[4], char *err, size_t errlen)
{
    memset(ide, 0, 4 * sizeof(*ide));
    for (unsigned i = 0; i < cfg->n_opts; i++) {
        struct cfg_opt *o = &cfg->opts[i];
        if (strcmp(o->option, "-drive"))
            continue;
        const char *iface = cfg_get(o, "if");
        if (iface && !strcmp(iface, "ide")) {
            uint64_t idx;
            const char *s = cfg_get(o, "index");
            const char *media = cfg_get(o, "media");
            if (!s || parse_u64(s, &idx) < 0)
                return fail(err, errlen, "-drive %s: if=ide needs index=0-3", o->raw);
            if (media && strcmp(media, "disk") && strcmp(media, "cdrom"))
                return fail(err, errlen, "-drive %s: media=%s unknown", o->raw, media);
            int r = ide_slot(ide, (unsigned)idx, media && !strcmp(media, "cdrom") ? CFG_MEDIA_CDROM
                                                                                  : CFG_MEDIA_DISK,
                             o, NULL, err, errlen);
            if (r < 0)
                return r;
        }
    }
    for (unsigned i = 0; i < cfg->n_opts; i++) {
        struct cfg_opt *o = &cfg->opts[i];
        if (strcmp(o->option, "-device") || (strcmp(o->first, "ide-cd") && strcmp(o->first, "ide-hd")))
            continue;
        const char *drv = cfg_get(o, "drive");
        const char *bus = cfg_get(o, "bus");
        const char *unit = cfg_get(o, "unit");
        uint64_t u = 0;
        struct cfg_opt *drive = drv ? cfg_by_id(cfg, "-drive", drv) : NULL;
        if (!drive)
            return fail(err, errlen, "-device %s: no -drive with id=%s", o->raw, drv ? drv : "");
        if (!bus || (strcmp(bus, "ide.0") && strcmp(bus, "ide.1")) || (unit && parse_u64(unit, &u) < 0) || u > 1)
            return fail(err, errlen, "-device %s: needs bus=ide.0|ide.1 and unit=0|1", o->raw);
        int r = ide_slot(ide, (unsigned)((bus[4] - '0') * 2 + u),
                         strcmp(o->first, "ide-cd") ? CFG_MEDIA_DISK : CFG_MEDIA_CDROM, drive, o,
                         err, errlen);
        if (r < 0)
            return r;
    }
    return 0;
}

int cfg_has_display(const struct config *cfg)
{
    if (cfg->vga_std)
        return 1;
    static const char *const vga[] = { "VGA", "cirrus-vga", "qxl-vga", "secondary-vga",
                                       "bochs-display", "virtio-vga" };
    for (unsigned i = 0; i < cfg->n_opts; i++)
        if (!strcmp(cfg->opts[i].option, "-device"))
            for (unsigned k = 0; k < ARRAY_SIZE(vga); k++)
                if (!strcmp(cfg->opts[i].first, vga[k]))
                    return 1;
    return 0;
}

void cfg_ram_layout(const struct config *cfg, uint64_t *lowmem_end, uint64_t *highmem_end)
{
    uint64_t mem = cfg->mem_mb << 20;
    uint64_t below = cfg->max_ram_below_4g ? cfg->max_ram_below_4g : 0xf0000000ull;
    if (mem <= below) {
        *lowmem_end = mem;
        *highmem_end = 0;
    } else {
        *lowmem_end = below;
        *highmem_end = (1ull << 32) + (mem - below);
    }
}
