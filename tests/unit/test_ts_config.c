/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ts_config.c: hvmctl's xl.cfg handling, driven with config files as a user writes them:
 * the key scanner's lines, the values libxl gets, hvmctl's defaults for HVM guests, the
 * command-line overrides, and the message each bad file gets (file, line and key named).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolstack/xl/xl.h"

static char tmpdir[64];
static char kernel[128], initrd[128], disk[128], iso[128];
static char hvmd[128];      /* a stand-in for the installed hvmd: $HVMCTL_HVMD */
static char passwd[128];    /* dom0's users as libxl finds them: $HVMCTL_PASSWD */

static void touch(const char *p)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/test_ts_config.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(kernel, sizeof(kernel), "%s/vmlinuz", tmpdir);
    snprintf(initrd, sizeof(initrd), "%s/initrd.gz", tmpdir);
    snprintf(disk, sizeof(disk), "%s/disk.img", tmpdir);
    snprintf(iso, sizeof(iso), "%s/linux.iso", tmpdir);
    snprintf(hvmd, sizeof(hvmd), "%s/hvmd", tmpdir);
    touch(kernel);
    touch(initrd);
    touch(disk);
    touch(iso);
    touch(hvmd);
    chmod(hvmd, 0755);
    /* hvmctl's default device model is hvmd; where it is installed, this test does not know */
    setenv("HVMCTL_HVMD", hvmd, 1);
    /* a dom0 set up for dm_restrict, as the bed's is (images/bed.sh) */
    snprintf(passwd, sizeof(passwd), "%s/passwd", tmpdir);
    FILE *f = fopen(passwd, "w");
    assert_non_null(f);
    fputs("root:x:0:0:root:/root:/bin/sh\n"
          "xen-qemuuser-range-base:x:131072:131072::/nonexistent:/bin/false\n", f);
    fclose(f);
    setenv("HVMCTL_PASSWD", passwd, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(kernel);
    unlink(initrd);
    unlink(disk);
    unlink(iso);
    unlink(hvmd);
    unlink(passwd);
    rmdir(tmpdir);
    return 0;
}

/* a parse with its messages captured */
struct run {
    struct ts_config c;
    struct ts_settings s;
    char *msg;
    size_t msglen;
    int rc;
    int warnings;
};

static void parse_with(struct run *r, const char *text, const char *const *ov, int n,
                       const char *settings_text)
{
    struct ts_diag d = { 0 };
    char spath[160];
    int rc;

    memset(r, 0, sizeof(*r));
    d.out = open_memstream(&r->msg, &r->msglen);
    assert_non_null(d.out);
    if (settings_text) {
        FILE *f;
        snprintf(spath, sizeof(spath), "%s/hvmctl.conf", tmpdir);
        f = fopen(spath, "w");
        assert_non_null(f);
        fputs(settings_text, f);
        fclose(f);
        rc = ts_settings_load(&r->s, spath, &d);
        unlink(spath);
    } else {
        snprintf(spath, sizeof(spath), "%s/absent.conf", tmpdir);
        rc = ts_settings_load(&r->s, spath, &d);
    }
    assert_int_equal(rc, 0);
    r->rc = ts_config_parse(&r->c, "guest.cfg", text, strlen(text), ov, n, &r->s, &d);
    r->warnings = d.warnings;
    fclose(d.out);
}

static void parse(struct run *r, const char *text)
{
    parse_with(r, text, NULL, 0, NULL);
}

static void done(struct run *r)
{
    ts_config_free(&r->c);
    ts_settings_free(&r->s);
    free(r->msg);
}

static char *pv_cfg(const char *extra)
{
    return ts_asprintf("name = \"pv\"\ntype = \"pv\"\nkernel = \"%s\"\nramdisk = \"%s\"\n"
                       "cmdline = \"console=hvc0 quiet\"\nmemory = 256\nvcpus = 2\n%s",
                       kernel, initrd, extra);
}

/* ---- the scanner ------------------------------------------------------------------------------ */

static void test_scan_lines(void **state)
{
    const char *text =
        "# a comment with name = \"not a key\"\n"
        "name = \"a#b=c\"   # trailing comment\n"
        "\n"
        "disk = [ 'x=1',\n"
        "         'y = 2' ]\n"
        "memory = 64; vcpus = 2\n"
        "vif += [ \"bridge=xenbr0\" ]\n"
        "extra = \"root=/dev/xvda\"\n"
        "memory = 128\n";
    struct ts_cfgscan s;

    (void)state;
    assert_int_equal(ts_cfgscan(text, strlen(text), &s), 0);
    assert_int_equal(s.n, 6);
    assert_int_equal(ts_cfgscan_find(&s, "name")->line, 2);
    assert_int_equal(ts_cfgscan_find(&s, "disk")->line, 4);
    assert_int_equal(ts_cfgscan_find(&s, "vcpus")->line, 6);
    assert_int_equal(ts_cfgscan_find(&s, "vif")->line, 7);
    assert_int_equal(ts_cfgscan_find(&s, "extra")->line, 8);
    /* the last assignment is the one libxlutil keeps */
    assert_int_equal(ts_cfgscan_find(&s, "memory")->line, 9);
    assert_null(ts_cfgscan_find(&s, "x"));
    assert_null(ts_cfgscan_find(&s, "y"));
    assert_null(ts_cfgscan_find(&s, "root"));
    ts_cfgscan_free(&s);
}

/* ---- good files --------------------------------------------------------------------------------- */

static void test_pv_guest(void **state)
{
    char *t = pv_cfg("on_reboot = \"destroy\"\non_crash = \"preserve\"\n");
    libxl_domain_build_info *bi;
    struct run r;

    (void)state;
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.msg, "");
    bi = &r.c.dc.b_info;
    assert_int_equal(r.c.dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
    assert_string_equal(r.c.dc.c_info.name, "pv");
    assert_int_equal(bi->target_memkb, 256 * 1024);
    assert_int_equal(bi->max_memkb, 256 * 1024);
    assert_int_equal(bi->max_vcpus, 2);
    assert_int_equal(bi->avail_vcpus.map[0], 0x3);
    assert_string_equal(bi->kernel, kernel);
    assert_string_equal(bi->ramdisk, initrd);
    assert_string_equal(bi->cmdline, "console=hvc0 quiet");
    assert_int_equal(r.c.dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    assert_int_equal(r.c.dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
    assert_int_equal(r.c.dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
    assert_null(bi->device_model);
    assert_null(r.c.dm_note);
    done(&r);
    free(t);
}

/* PV and PVH guests with a qdisk disk get hvmd -machine xenpv (libxl starts it only then);
 * a framebuffer or a CD-ROM keeps qemu-xen, the settings' qemu-xen too, and the file's
 * device_model_override wins */
static void test_pv_qdisk_dm(void **state)
{
    char *qd = ts_asprintf("disk = [ \"format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=%s\" ]\n",
                           disk);
    char *t = pv_cfg(qd), *want, *t2;
    struct run r;

    (void)state;
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.msg, "");
    assert_string_equal(r.c.dc.b_info.device_model, hvmd);
    assert_true(r.c.dm_is_hvmd);
    want = ts_asprintf("%s -machine xenpv (the backend of qdisk disk xvda; hvmctl's default)", hvmd);
    assert_string_equal(r.c.dm_note, want);
    free(want);
    done(&r);
    /* PVH the same */
    t2 = ts_asprintf("name = \"pvh\"\ntype = \"pvh\"\nkernel = \"%s\"\nmemory = 256\n%s", kernel, qd);
    parse(&r, t2);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
    assert_string_equal(r.c.dc.b_info.device_model, hvmd);
    done(&r);
    free(t2);
    /* settings say qemu-xen: libxl's own */
    parse_with(&r, t, NULL, 0, "device_model = \"qemu-xen\"\n");
    assert_int_equal(r.rc, 0);
    assert_null(r.c.dc.b_info.device_model);
    assert_non_null(strstr(r.c.dm_note, "qemu-xen (device_model in "));
    done(&r);
    /* a framebuffer: hvmd serves no vfb */
    want = ts_asprintf("vnc = 1\n%s", qd);
    t2 = pv_cfg(want);
    free(want);
    parse(&r, t2);
    assert_int_equal(r.rc, 0);
    assert_null(r.c.dc.b_info.device_model);
    assert_non_null(strstr(r.c.dm_note, "qemu-xen (for a framebuffer (vnc = 1)"));
    done(&r);
    free(t2);
    /* a plain raw disk: phy (dom0's blkback), no device model at all */
    free(t);
    t = pv_cfg("");
    t2 = ts_asprintf("%sdisk = [ \"format=raw,vdev=xvda,access=rw,target=%s\" ]\n", t, disk);
    parse(&r, t2);
    assert_int_equal(r.rc, 0);
    assert_null(r.c.dc.b_info.device_model);
    assert_null(r.c.dm_note);
    done(&r);
    free(t2);
    /* the file's own device model wins */
    t2 = ts_asprintf("%s%sdevice_model_override = \"%s\"\n", t, qd, hvmd);
    parse(&r, t2);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.b_info.device_model, hvmd);
    assert_null(r.c.dm_note);
    done(&r);
    free(t2);
    free(t);
    free(qd);
}

/* an HVM guest whose file names no device model: hvmd, hvmctl's default, with a standard VGA,
 * a serial pty and an e1000, and hvmctl says which device model and how to change it */
static void test_hvm_defaults(void **state)
{
    char *t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\nmemory = 256\n"
                          "disk = [ \"format=raw,vdev=hda,access=rw,target=%s\",\n"
                          "         \"format=raw,vdev=hdc,access=ro,devtype=cdrom,target=%s\" ]\n"
                          "vif = [ \"mac=00:16:3e:01:02:03\" ]\nboot = \"d\"\n", disk, iso);
    libxl_domain_build_info *bi;
    char *want;
    struct run r;

    (void)state;
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.msg, "");
    bi = &r.c.dc.b_info;
    assert_int_equal(r.c.dc.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
    /* no settings file: the built-in default is hvmd */
    assert_int_equal(r.s.dm, TS_DM_HVMD);
    assert_string_equal(ts_dm_describe(&r.s), "hvmd");
    assert_null(r.s.source);
    assert_string_equal(bi->device_model, hvmd);
    assert_int_equal(bi->device_model_version, LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN);
    assert_true(r.c.dm_is_hvmd);
    /* and hvmctl says so: the binary, that it is the default, and the way back to qemu-xen */
    want = ts_asprintf("%s (hvmctl's default; device_model = \"qemu-xen\" in "
                       "/etc/hvmd/hvmctl.conf selects qemu-xen)", hvmd);
    assert_string_equal(r.c.dm_note, want);
    free(want);
    /* deprivileged: dm_restrict is hvmctl's default for hvmd */
    assert_false(libxl_defbool_is_default(bi->dm_restrict));
    assert_true(libxl_defbool_val(bi->dm_restrict));
    /* the display default is the one qemu-xen gets: hvmctl's stdvga (a screen for an ISO) */
    assert_int_equal(bi->u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    /* libxl's defaults stay libxl's: VNC and the PV keyboard (hvmd serves both) */
    assert_true(libxl_defbool_is_default(bi->u.hvm.vnc.enable));
    assert_true(libxl_defbool_is_default(bi->u.hvm.vkb_device));
    assert_string_equal(bi->u.hvm.serial, "pty");
    assert_string_equal(bi->u.hvm.boot, "d");
    assert_int_equal(r.c.dc.num_disks, 2);
    assert_string_equal(r.c.dc.disks[0].vdev, "hda");
    assert_int_equal(r.c.dc.disks[1].is_cdrom, 1);
    assert_string_equal(r.c.dc.disks[1].pdev_path, iso);
    assert_int_equal(r.c.dc.num_nics, 1);
    assert_string_equal(r.c.dc.nics[0].model, "e1000");
    assert_int_equal(r.c.dc.nics[0].mac[5], 3);
    done(&r);

    /* a settings file without device_model: still hvmd; its vga is the default under hvmd too */
    parse_with(&r, t, NULL, 0, "vga = \"none\"\nserial = \"pty\"\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.s.dm, TS_DM_HVMD);
    assert_string_equal(r.c.dc.b_info.device_model, hvmd);
    assert_non_null(strstr(r.c.dm_note, "(hvmctl's default; device_model = \"qemu-xen\" in "));
    assert_non_null(strstr(r.c.dm_note, "/hvmctl.conf selects qemu-xen)"));
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_NONE);
    done(&r);

    /* device_model = "qemu-xen" still selects qemu-xen: libxl's own binary, hvmctl's stdvga */
    parse_with(&r, t, NULL, 0, "# qemu-xen, please\ndevice_model = \"qemu-xen\"\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.s.dm, TS_DM_QEMU);
    assert_string_equal(ts_dm_describe(&r.s), "qemu-xen");
    bi = &r.c.dc.b_info;
    assert_null(bi->device_model);
    assert_int_equal(bi->device_model_version, LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN);
    assert_false(r.c.dm_is_hvmd);
    assert_non_null(strstr(r.c.dm_note, "qemu-xen (device_model in "));
    assert_non_null(strstr(r.c.dm_note, "/hvmctl.conf)"));
    assert_int_equal(bi->u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    assert_string_equal(r.c.dc.nics[0].model, "e1000");
    done(&r);

    /* ... and so does a guest's own device_model_override, whatever the default */
    chmod(kernel, 0755);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n", kernel);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.b_info.device_model, kernel);
    assert_false(r.c.dm_is_hvmd);
    want = ts_asprintf("%s (device_model_override, guest.cfg:3)", kernel);
    assert_string_equal(r.c.dm_note, want);
    free(want);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    done(&r);
    chmod(kernel, 0644);
    free(t);

    /* the default hvmd not installed: the create is refused, saying what to do */
    unsetenv("HVMCTL_HVMD");
    t = ts_default_hvmd_path();
    if (access(t, X_OK) < 0) {
        char *want_msg = ts_asprintf("guest.cfg: hvmd, hvmctl's default device model: %s: "
                                     "No such file or directory (device_model = \"qemu-xen\" in "
                                     "/etc/hvmd/hvmctl.conf selects qemu-xen)\n", t);
        parse(&r, "name = \"iso\"\ntype = \"hvm\"\n");
        assert_int_equal(r.rc, -EINVAL);
        assert_string_equal(r.msg, want_msg);
        done(&r);
        free(want_msg);
        /* with qemu-xen chosen, hvmd need not be there */
        parse_with(&r, "name = \"iso\"\ntype = \"hvm\"\n", NULL, 0, "device_model = \"qemu-xen\"\n");
        assert_int_equal(r.rc, 0);
        done(&r);
    }
    free(t);
    setenv("HVMCTL_HVMD", hvmd, 1);
}

static void test_hvm_settings_hvmd(void **state)
{
    const char *t = "name = \"iso\"\ntype = \"hvm\"\nvga = \"cirrus\"\nserial = \"file:/tmp/s\"\n";
    char *sett = ts_asprintf("device_model = \"%s\"\nvif_bridge = \"br7\"\n", kernel);
    struct run r;

    (void)state;
    /* a path as the device model: hvmctl passes it as device_model_override */
    chmod(kernel, 0755);
    parse_with(&r, t, NULL, 0, sett);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.b_info.device_model, kernel);
    assert_non_null(strstr(r.c.dm_note, "hvmctl.conf"));
    /* the file's own vga and serial win over hvmctl's defaults */
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_CIRRUS);
    assert_string_equal(r.c.dc.b_info.u.hvm.serial, "file:/tmp/s");
    assert_string_equal(r.s.vif_bridge, "br7");
    done(&r);
    free(sett);

    /* device_model = "hvmd": the installed one, and hvmctl names the settings line */
    parse_with(&r, t, NULL, 0, "\n\ndevice_model = \"hvmd\"\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.b_info.device_model, hvmd);
    assert_true(r.c.dm_is_hvmd);
    assert_non_null(strstr(r.c.dm_note, " (device_model in "));
    assert_non_null(strstr(r.c.dm_note, "/hvmctl.conf)"));
    done(&r);
    /* "hvmd" that is not installed: an error naming the settings line */
    unsetenv("HVMCTL_HVMD");
    parse_with(&r, t, NULL, 0, "\n\ndevice_model = \"hvmd\"\n");
    if (access("/usr/lib/hvmd/hvmd", X_OK) < 0 && access("/usr/local/lib/hvmd/hvmd", X_OK) < 0) {
        assert_int_equal(r.rc, -EINVAL);
        assert_non_null(strstr(r.msg, "hvmctl.conf:3: device_model: "));
    }
    done(&r);
    setenv("HVMCTL_HVMD", hvmd, 1);
}

/* hvmd as the device model (named by the file): the display and keyboard defaults of qemu-xen
 * (hvmctl's stdvga unless the file has vga= / stdvga=, libxl's PV keyboard); emulated NICs that
 * hvmd does not have are an error naming the line */
static void test_hvm_hvmd_defaults(void **state)
{
    char dm[160], *t;
    struct run r;
    libxl_domain_build_info *bi;

    (void)state;
    snprintf(dm, sizeof(dm), "%s/hvmd", tmpdir);
    touch(dm);
    chmod(dm, 0755);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    bi = &r.c.dc.b_info;
    assert_true(r.c.dm_is_hvmd);
    /* a screen, as under qemu-xen: hvmctl's stdvga */
    assert_int_equal(bi->u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    /* the PV keyboard is libxl's default (hvmd serves it) */
    assert_true(libxl_defbool_is_default(bi->u.hvm.vkb_device));
    done(&r);
    free(t);

    /* the file's vkb_device wins */
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vkb_device = 0\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_false(libxl_defbool_val(r.c.dc.b_info.u.hvm.vkb_device));
    done(&r);
    free(t);

    /* the file's vga wins: "none" gives none, "cirrus" and stdvga = 0 ask for Cirrus (which
     * hvmd serves with the standard VGA), "stdvga" the standard VGA */
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vga = \"none\"\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_NONE);
    done(&r);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vga = \"cirrus\"\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_CIRRUS);
    done(&r);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "stdvga = 0\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_CIRRUS);
    done(&r);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vga = \"stdvga\"\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    done(&r);
    free(t);
    /* under the default hvmd too: the file's vga = "none" gives none */
    parse(&r, "name = \"iso\"\ntype = \"hvm\"\nvga = \"none\"\n");
    assert_int_equal(r.rc, 0);
    assert_true(r.c.dm_is_hvmd);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_NONE);
    done(&r);

    /* emulated NICs under hvmd: e1000 (also when no model is named) and rtl8139; another
     * model is an error on the vif line; a PV-only vif is fine */
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vif = [ \"mac=00:16:3e:00:00:01\", \"model=rtl8139\", \"model=e1000\" ]\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.num_nics, 3);
    assert_string_equal(r.c.dc.nics[0].model, "e1000");
    assert_string_equal(r.c.dc.nics[1].model, "rtl8139");
    done(&r);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vif = [ \"mac=00:16:3e:00:00:01,model=virtio-net\" ]\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:4: vif: entry 1: model=virtio-net: hvmd emulates "
                                  "rtl8139"));
    done(&r);
    free(t);
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\ndevice_model_override = \"%s\"\n"
                    "vif = [ \"mac=00:16:3e:00:00:01,type=vif\" ]\n", dm);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.c.dc.nics[0].nictype, LIBXL_NIC_TYPE_VIF);
    done(&r);
    free(t);

    /* the same model check under the default hvmd, none under qemu-xen */
    t = ts_asprintf("name = \"iso\"\ntype = \"hvm\"\n"
                    "vif = [ \"mac=00:16:3e:00:00:01,model=virtio-net\" ]\n");
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:3: vif: entry 1: model=virtio-net: hvmd emulates "));
    done(&r);
    parse_with(&r, t, NULL, 0, "device_model = \"qemu-xen\"\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.nics[0].model, "virtio-net");
    done(&r);
    free(t);

    /* qemu-xen keeps the same defaults: hvmctl's stdvga, vkb_device left to libxl */
    parse_with(&r, "name = \"iso\"\ntype = \"hvm\"\n", NULL, 0, "device_model = \"qemu-xen\"\n");
    assert_int_equal(r.rc, 0);
    assert_false(r.c.dm_is_hvmd);
    assert_int_equal(r.c.dc.b_info.u.hvm.vga.kind, LIBXL_VGA_INTERFACE_TYPE_STD);
    assert_true(libxl_defbool_is_default(r.c.dc.b_info.u.hvm.vkb_device));
    done(&r);
    unlink(dm);
}

/* dm_restrict's default and its user: the file's dm_restrict = 0 wins; without
 * xen-qemuuser-range-base, xen-qemuuser-shared or device_model_user= the default falls back to
 * an unrestricted hvmd with a warning, and an explicit dm_restrict = 1 is an error; qemu-xen
 * guests keep libxl's default */
static void test_dm_restrict_default(void **state)
{
    static const char base[] = "name = \"r\"\ntype = \"hvm\"\nmemory = 256\n";
    struct run r;
    char *t;
    (void)state;

    touch(hvmd); /* (test_hvm_hvmd_defaults removed it) */
    chmod(hvmd, 0755);
    t = ts_asprintf("%sdm_restrict = 0\n", base);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_false(libxl_defbool_val(r.c.dc.b_info.dm_restrict));
    done(&r);
    free(t);

    char nobody[160];
    snprintf(nobody, sizeof(nobody), "%s/passwd-none", tmpdir);
    FILE *f = fopen(nobody, "w");
    assert_non_null(f);
    fputs("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n", f);
    fclose(f);
    setenv("HVMCTL_PASSWD", nobody, 1);
    parse(&r, base);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.warnings, 1);
    assert_non_null(strstr(r.msg, "hvmd runs as root, not deprivileged"));
    assert_non_null(strstr(r.msg, "xen-qemuuser-range-base"));
    assert_true(libxl_defbool_is_default(r.c.dc.b_info.dm_restrict));
    done(&r);
    t = ts_asprintf("%sdm_restrict = 1\n", base);
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:4: dm_restrict: needs a user to run the device "
                                  "model as"));
    done(&r);
    free(t);
    t = ts_asprintf("%sdm_restrict = 1\ndevice_model_user = \"nobody\"\n", base);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.msg, "");
    assert_true(libxl_defbool_val(r.c.dc.b_info.dm_restrict));
    done(&r);
    free(t);
    /* the shared user is enough */
    f = fopen(nobody, "w");
    assert_non_null(f);
    fputs("xen-qemuuser-shared:x:990:990::/:/bin/false\n", f);
    fclose(f);
    parse(&r, base);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.msg, "");
    assert_true(libxl_defbool_val(r.c.dc.b_info.dm_restrict));
    done(&r);
    /* qemu-xen guests: libxl's default (off), hvmctl does not change it */
    parse_with(&r, base, NULL, 0, "device_model = \"qemu-xen\"\n");
    assert_int_equal(r.rc, 0);
    assert_true(libxl_defbool_is_default(r.c.dc.b_info.dm_restrict));
    done(&r);
    unlink(nobody);
    setenv("HVMCTL_PASSWD", passwd, 1);
}

static void test_overrides(void **state)
{
    char *t = pv_cfg("");
    const char *ov[] = { "name=web2", "memory=64", "cmdline=console=hvc0 hvmd.checks=poweroff",
                   "on_poweroff='preserve'" };
    struct run r;

    (void)state;
    parse_with(&r, t, ov, 4, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.c_info.name, "web2");
    assert_int_equal(r.c.dc.b_info.target_memkb, 64 * 1024);
    assert_string_equal(r.c.dc.b_info.cmdline, "console=hvc0 hvmd.checks=poweroff");
    assert_int_equal(r.c.dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
    done(&r);

    /* xl's form: several settings in one argument, separated by ';' outside quotes */
    {
        const char *xl[] = { "memory=96; name=\"web3\" ;", "cmdline='a;b c'; vcpus=2" };
        parse_with(&r, t, xl, 2, NULL);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.c.dc.c_info.name, "web3");
        assert_int_equal(r.c.dc.b_info.target_memkb, 96 * 1024);
        assert_string_equal(r.c.dc.b_info.cmdline, "a;b c");
        assert_int_equal(r.c.dc.b_info.max_vcpus, 2);
        done(&r);
    }
    /* an override that is not KEY=VALUE */
    {
        const char *bad[] = { "=5" };
        parse_with(&r, t, bad, 1, NULL);
        assert_int_equal(r.rc, -EINVAL);
        assert_non_null(strstr(r.msg, "command line: '=5' is not KEY=VALUE"));
        done(&r);
    }
    /* an override's error names the command line, not a line of the file */
    {
        const char *bad[] = { "memory=lots" };
        parse_with(&r, t, bad, 1, NULL);
        assert_int_equal(r.rc, -EINVAL);
        assert_non_null(strstr(r.msg, "command line: memory: 'lots' is not a number"));
        done(&r);
    }
    free(t);
}

/* ---- bad files: each gets its message, naming file, line and key ------------------------------- */

struct bad_case {
    const char *extra;      /* appended to a good PV file (which has 7 lines) */
    const char *expect;     /* a piece of the message */
};

static void test_bad_values(void **state)
{
    static const struct bad_case cases[] = {
        { "memory = \"lots\"\n", "guest.cfg:8: memory: 'lots' is not a number" },
        { "memory = 0\n", "guest.cfg:8: memory: 0 is out of range" },
        { "maxmem = 128\n", "guest.cfg:8: maxmem: 128 MB is less than memory = 256" },
        { "vcpus = 0\n", "guest.cfg:8: vcpus: 0 is out of range" },
        { "maxvcpus = 1\n", "guest.cfg:8: maxvcpus: 1 is less than vcpus = 2" },
        { "on_crash = \"explode\"\n", "guest.cfg:8: on_crash: 'explode' is not one of" },
        { "kernel = \"/nonexistent/vmlinuz\"\n",
          "guest.cfg:8: kernel: /nonexistent/vmlinuz: No such file or directory" },
        { "\ndisk = [ \"vdev=xvda,format=raw,target=/nonexistent.img\" ]\n",
          "guest.cfg:9: disk: entry 1 (xvda): target /nonexistent.img: No such file" },
        { "disk = [ \"vdev=xvda,format=raw,bogus=1,target=/x\" ]\n",
          "guest.cfg:8: disk: entry 1" },
        { "vif = [ \"mac=00:16:3e:zz:00:01\" ]\n",
          "guest.cfg:8: vif: entry 1: mac=00:16:3e:zz:00:01 is not valid" },
        { "vif = [ \"mac=01:16:3e:00:00:01\" ]\n", "is a multicast address" },
        { "vif = [ \"bridge=xenbr0,colour=blue\" ]\n",
          "guest.cfg:8: vif: entry 1: unknown setting 'colour'" },
        { "pci = [ \"01:00.0\" ]\n", "guest.cfg:8: pci: not supported by hvmctl" },
        { "device_model_override = \"/nonexistent/dm\"\n",
          "guest.cfg:8: device_model_override: /nonexistent/dm: No such file" },
        { "device_model_version = \"qemu-xen-traditional\"\n",
          "guest.cfg:8: device_model_version: qemu-xen-traditional is not in Xen 4.17" },
        { "uuid = \"not-a-uuid\"\n", "guest.cfg:8: uuid: 'not-a-uuid' is not a UUID" },
        { "memory = [ 1, 2 ]\n", "guest.cfg:8: memory: must be a single value, not a list" },
        { "disk = \"vdev=xvda,target=/x\"\n", "guest.cfg:8: disk: must be a list" },
        { "tsc_mode = \"sometimes\"\n", "guest.cfg:8: tsc_mode: 'sometimes' is not default" },
        { "cpuid = \"host,nosuchflag=0\"\n", "guest.cfg:8: cpuid: 'nosuchflag=0': unknown" },
    };
    char *t;
    size_t i;
    struct run r;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = pv_cfg(cases[i].extra);
        parse(&r, t);
        if (r.rc != -EINVAL || !strstr(r.msg, cases[i].expect))
            fail_msg("case %zu (%s): rc %d, message:\n%s\nexpected: %s", i, cases[i].extra,
                     r.rc, r.msg, cases[i].expect);
        done(&r);
        free(t);
    }
}

static void test_bad_files(void **state)
{
    struct run r;
    char *t;

    (void)state;
    /* no name */
    t = ts_asprintf("type = \"pv\"\nkernel = \"%s\"\n", kernel);
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg: name: missing"));
    done(&r);
    free(t);

    /* a name that reads as a domid */
    t = ts_asprintf("name = \"42\"\nkernel = \"%s\"\n", kernel);
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:1: name: '42' is all digits"));
    done(&r);
    free(t);

    /* a PV guest with nothing to boot */
    parse(&r, "name = \"pv\"\ntype = \"pv\"\n");
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg: kernel: missing"));
    done(&r);

    /* a type that is not one */
    t = ts_asprintf("name = \"x\"\n\ntype = \"hvn\"\n");
    parse(&r, t);
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:3: type: 'hvn' is not hvm, pv or pvh"));
    done(&r);
    free(t);

    /* a syntax error: libxlutil's own message, with the line */
    parse(&r, "name = \"x\"\nmemory = = 5\n");
    assert_int_equal(r.rc, -EINVAL);
    assert_non_null(strstr(r.msg, "guest.cfg:2: config parsing error"));
    done(&r);
}

static void test_warnings(void **state)
{
    char *t = pv_cfg("memroy = 512\nboot = \"d\"\nvnc = 1\n");
    struct run r;

    (void)state;
    parse(&r, t);
    /* a typo and keys that do not apply are warnings, not errors */
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.msg, "guest.cfg:8: warning: memroy: unknown key, ignored"));
    assert_non_null(strstr(r.msg, "guest.cfg:9: warning: boot: only HVM guests use this"));
    /* vnc = 1 on a PV guest gives it a framebuffer, as with xl */
    assert_int_equal(r.c.dc.num_vfbs, 1);
    assert_int_equal(r.warnings, 2);
    done(&r);
    free(t);
}

static void test_settings(void **state)
{
    struct ts_settings s;
    struct ts_diag d = { 0 };
    char *msg = NULL, path[160];
    size_t len = 0;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/s.conf", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("# hvmctl settings\nvga = \"cirrus\"\ndevice_model = \"qemu-xen\"\ncolour = \"red\"\n"
          "serial = \"none\"\n", f);
    fclose(f);
    d.out = open_memstream(&msg, &len);
    assert_int_equal(ts_settings_load(&s, path, &d), 0);
    fclose(d.out);
    assert_int_equal(s.dm, TS_DM_QEMU);
    assert_string_equal(s.vga, "cirrus");
    assert_string_equal(s.serial, "none");
    assert_non_null(strstr(msg, "s.conf:4: warning: colour: unknown setting"));
    ts_settings_free(&s);
    free(msg);

    f = fopen(path, "w");
    fputs("device_model = \"kvm\"\n", f);
    fclose(f);
    msg = NULL;
    d.out = open_memstream(&msg, &len);
    assert_int_equal(ts_settings_load(&s, path, &d), -EINVAL);
    fclose(d.out);
    assert_non_null(strstr(msg, "s.conf:1: device_model: 'kvm' is not"));
    ts_settings_free(&s);
    free(msg);
    unlink(path);
}

/* with the hvmctl network up, a vif goes to its default bridge through hvmctl's hotplug entry */
static void test_vif_network_defaults(void **state)
{
    char *t = pv_cfg("vif = [ \"mac=00:16:3e:00:00:01\", \"bridge=other,script=vif-bridge\" ]\n");
    char dir[160], path[200];
    struct run r;
    FILE *f;

    (void)state;
    /* no network up: libxl's defaults (xenbr0, vif-bridge) */
    snprintf(dir, sizeof(dir), "%s/run", tmpdir);
    setenv("HVMD_RUN_DIR", dir, 1);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_null(r.c.dc.nics[0].bridge);
    assert_null(r.c.dc.nics[0].script);
    done(&r);

    /* two networks up, the second by name the default */
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/net", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/net/abr", dir);
    f = fopen(path, "w");
    fputs("# hvmctl network state\nname abr\nmode nat\ndefault 0\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/net/xenbr5", dir);
    f = fopen(path, "w");
    fputs("# hvmctl network state\nname xenbr5\nmode bridge\nnetdev eth0\ndefault 1\n", f);
    fclose(f);
    parse(&r, t);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.nics[0].bridge, "xenbr5");
    assert_non_null(r.c.dc.nics[0].script);
    /* the vif spec's own bridge= and script= win */
    assert_string_equal(r.c.dc.nics[1].bridge, "other");
    assert_string_equal(r.c.dc.nics[1].script, "vif-bridge");
    done(&r);

    /* hvmctl's settings win over the network's defaults */
    parse_with(&r, t, NULL, 0, "vif_bridge = \"br9\"\nvif_script = \"/etc/xen/scripts/vif-route\"\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.c.dc.nics[0].bridge, "br9");
    assert_string_equal(r.c.dc.nics[0].script, "/etc/xen/scripts/vif-route");
    done(&r);

    unlink(path);
    snprintf(path, sizeof(path), "%s/net/abr", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/net", dir);
    rmdir(path);
    rmdir(dir);
    unsetenv("HVMD_RUN_DIR");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_lines),
        cmocka_unit_test(test_pv_guest),
        cmocka_unit_test(test_pv_qdisk_dm),
        cmocka_unit_test(test_hvm_defaults),
        cmocka_unit_test(test_hvm_settings_hvmd),
        cmocka_unit_test(test_hvm_hvmd_defaults),
        cmocka_unit_test(test_dm_restrict_default),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_vif_network_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
