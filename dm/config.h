/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line, as libxl 4.17 builds it for device_model_version="qemu-xen"
 * (dm/LIBXL-DM.md): parsed into a struct config, with every option hvmd does not know
 * refused by name. Options that carry devices (-device, -drive, -netdev, -chardev) are kept
 * as key=value lists; the device that serves one marks it claimed, and the machine refuses
 * whatever no device claimed, naming it. */
#ifndef HVMD_CONFIG_H
#define HVMD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "dm/restrict.h"
#include "dm/util.h"

#define CFG_MAX_KV 24
#define CFG_MAX_OPTS 32
#define CFG_MAX_SERIAL 4

struct cfg_kv {
    char *key;
    char *val; /* "" for a bare word */
};

/* One "-device X,k=v,..." / "-drive k=v,..." / "-netdev k=v" / "-chardev T,k=v" / "-mon k=v". */
struct cfg_opt {
    const char *option;  /* "-device", "-drive", ... */
    char *raw;           /* the argument as given */
    char *first;         /* the leading bare word (-device's driver, -chardev's backend), or "" */
    struct cfg_kv kv[CFG_MAX_KV];
    unsigned n_kv;
    int claimed;
};

/* IDE positions 0-3: bus index / 2, unit index % 2. */
enum cfg_media { CFG_MEDIA_NONE = 0, CFG_MEDIA_DISK, CFG_MEDIA_CDROM };
struct cfg_ide {
    enum cfg_media media;
    const char *file;      /* NULL: empty (a CD-ROM without a medium) */
    const char *format;    /* "raw" */
    const char *id;        /* the drive's id, for QMP (eject etc.), or NULL */
    int readonly;
    struct cfg_opt *drive; /* the -drive it came from (to claim), and the -device if any */
    struct cfg_opt *device;
};

struct config {
    uint32_t domid;
    int have_domid;
    const char *name;
    uint64_t mem_mb;            /* -m */
    unsigned smp, maxcpus;      /* -smp N[,maxcpus=M]; 1 when absent */
    const char *kernel, *initrd, *append;
    const char *serial[CFG_MAX_SERIAL]; /* -serial SPEC, in order (COM1, COM2, ...) */
    unsigned n_serial;
    char boot_order[16];        /* -boot order=LETTERS */
    const char *machine;        /* "xenfv", "pc" (no platform device), "xenpv" (PV backends only) */
    int xen_platform;           /* the Xen platform PCI device is present */
    uint64_t max_ram_below_4g;  /* -machine ...,max-ram-below-4g= (0: default) */
    int no_shutdown;            /* -no-shutdown */
    int start_stopped;          /* -S */
    const char *incoming;       /* -incoming SPEC as given (NULL: none): load device state */
    int incoming_fd;            /* -incoming fd:N: N (else -1) */
    const char *incoming_path;  /* -incoming file:PATH: PATH (else NULL) */
    int sandbox;                /* -sandbox on|off|log or HVMD_SANDBOX (enum sandbox_mode) */
    int werror, rerror;         /* -io-error: the default error policies (enum blk_policy) */
    int no_acpi;                /* -no-acpi */
    int nographic;              /* -nographic */
    int vga_std;                /* -vga std|cirrus: the standard VGA (without -device VGA) */
    int usb;                    /* -usb or -usbdevice: the PIIX3 UHCI at 00:01.2 */
    const char *fw_dir;         /* -L DIR: where option ROMs are (default /usr/share/qemu) */
    int log_level;              /* -d LEVEL (hvmd's own: error, warning, info, debug); -1 unset */
    const char *vnc;            /* -vnc SPEC ("none" or NULL: no VNC server) */
    const char *keymap;         /* -k LAYOUT (NULL: en-us) */
    int vnc_unused;             /* -vncunused: probe the following displays (as to=99) */
    struct restrict_plan restrict_; /* -xen-domid-restrict, -chroot, -runas (dm/restrict.h) */
    struct cfg_opt opts[CFG_MAX_OPTS];
    unsigned n_opts;
    char *strings;              /* storage the above point into */
};

/* Parse ARGV (without argv[0]). 0, or -EINVAL with a message naming the bad option in
 * ERR (ERRLEN bytes). The config points into its own copy of the strings. */
/* -machine xenpv: a PV or PVH guest, served PV backends only (no emulated device) */
int cfg_xenpv(const struct config *cfg);

int config_parse(struct config *cfg, int argc, const char *const argv[], char *err, size_t errlen) WUR;
void config_free(struct config *cfg);

/* The value of KEY in O, or NULL. */
const char *cfg_get(const struct cfg_opt *o, const char *key);
/* The Nth (from 0) option of kind OPTION ("-device", ...), or NULL. */
struct cfg_opt *cfg_nth(struct config *cfg, const char *option, unsigned n);
/* The "-device" whose driver is DRIVER, Nth of them, or NULL. */
struct cfg_opt *cfg_device(struct config *cfg, const char *driver, unsigned n);
/* The option of kind OPTION whose id= is ID, or NULL. */
struct cfg_opt *cfg_by_id(struct config *cfg, const char *option, const char *id);
/* The first option nobody claimed, or NULL. */
const struct cfg_opt *cfg_unclaimed(const struct config *cfg);

/* The four IDE positions as -drive if=ide,index=N and -drive if=none + -device ide-cd/ide-hd
 * describe them. 0, or -EINVAL with ERR set (a position used twice, an unknown media...). */
int cfg_ide(struct config *cfg, struct cfg_ide ide[4], char *err, size_t errlen) WUR;

/* Does the guest have a display device (-device VGA / cirrus-vga / ...)? */
int cfg_has_display(const struct config *cfg);

/* Guest RAM layout from -m and max-ram-below-4g, as Xen builds it: lowmem_end, highmem_end. */
void cfg_ram_layout(const struct config *cfg, uint64_t *lowmem_end, uint64_t *highmem_end);

#endif
