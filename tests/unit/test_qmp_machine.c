/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/qmp with the machine behind it (dm/QMP.md): vCPUs (query-cpus-fast, query-cpus,
 * query-hotpluggable-cpus, device_add through the PIIX4's ACPI CPU map and GPE), S3 and
 * system_wakeup, system_powerdown, system_reset, query-status, human-monitor-command, the
 * refusals libxl expects, and bad input; all through the fake hypervisor. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "dm/bus.h"
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/pci.h"
#include "dm/qmp.h"
#include "tests/lib/capture.h"
#include "tests/lib/fakexen.h"

#define PMBASE 0xb000
#define SLP_EN 0x2000
#define GPE0 0xafe0

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    struct qmp *qmp;
    struct qmp_conn *c;
    char path[64];
    int conts;
    char out[65536 * 4];
    size_t outlen;
};

static void op_nop(void *o) { (void)o; }
static void op_cont(void *o) { ((struct bed *)o)->conts++; }
static const struct qmp_ops ops = { .stop = op_nop, .cont = op_cont, .quit = op_nop };

static void collect(void *opaque, const char *data, size_t n)
{
    struct bed *b = opaque;
    if (b->outlen + n < sizeof(b->out)) {
        memcpy(b->out + b->outlen, data, n);
        b->outlen += n;
        b->out[b->outlen] = 0;
    }
}

static struct bed *bed_up(const char *smp, int stopped, unsigned max_vcpus)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256], ch[160];
    snprintf(b->path, sizeof(b->path), "/tmp/hvmd-qmpm-%d", getpid());
    snprintf(ch, sizeof(ch), "socket,id=libxl-cmd,path=%s,server=on,wait=off", b->path);
    const char *argv[] = { "-xen-domid", "7", "-m", "16", "-chardev", ch,
                           "-mon", "chardev=libxl-cmd,mode=control", "-smp", smp, "-S" };
    assert_int_equal(config_parse(&b->cfg, stopped ? 11 : 10, argv, err, sizeof(err)), 0);
    b->fx = fx_new(16 << 20);
    b->fx->max_vcpus = max_vcpus;
    b->fx->vm.cfg = &b->cfg;
    if (stopped)
        b->fx->vm.running = 0;
    b->qmp = qmp_new(&b->fx->vm, &b->cfg, &ops, b, err, sizeof(err));
    assert_non_null(b->qmp);
    b->fx->vm.qmp = b->qmp;
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    b->c = qmp_conn_new(b->qmp, collect, b);
    assert_non_null(b->c);
    /* as hvmloader: PM I/O at 0xb000 */
    fx_cfg_write(b->fx, PCI_DEVFN(1, 3), 0x40, 4, PMBASE | 1);
    fx_cfg_write(b->fx, PCI_DEVFN(1, 3), 0x80, 1, 1);
    return b;
}

static void bed_down(struct bed *b)
{
    qmp_conn_free(b->c);
    machine_destroy(&b->m);
    qmp_free(b->qmp);
    b->fx->vm.qmp = NULL;
    fx_free(b->fx);
    config_free(&b->cfg);
    free(b);
}

/* Send one QMP text (capabilities negotiated first, once) and return what came back. */
static const char *qmp(struct bed *b, const char *json)
{
    static const char caps[] = "{\"execute\":\"qmp_capabilities\"}";
    if (b->outlen && strstr(b->out, "\"QMP\"")) {
        b->outlen = 0;
        assert_int_equal(qmp_conn_input(b->c, caps, strlen(caps)), 0);
        assert_string_equal(b->out, "{\"return\":{}}\r\n");
    }
    b->outlen = 0;
    b->out[0] = 0;
    assert_int_equal(qmp_conn_input(b->c, json, strlen(json)), 0);
    return b->out;
}

static void has(const char *out, const char *want)
{
    if (!strstr(out, want))
        fail_msg("expected \"%s\" in \"%s\"", want, out);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void test_cpus(void **state)
{
    struct bed *b = bed_up("1,maxcpus=2", 0, 2);
    const char *o;
    /* what xl list -l / save / vcpu-set ask first: the present vCPUs */
    o = qmp(b, "{\"execute\":\"query-cpus-fast\",\"id\":2020372736}");
    has(o, "{\"return\":[{\"cpu-index\":0,\"qom-path\":\"/machine/unattached/device[0]\",\"thread-id\":");
    has(o, "\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":0},\"target\":\"i386\"}],\"id\":2020372736}");
    assert_int_equal(count(o, "cpu-index"), 1);
    o = qmp(b, "{\"execute\":\"query-cpus\"}");
    has(o, "{\"return\":[{\"CPU\":0,\"current\":true,\"halted\":false,");
    assert_int_equal(count(o, "\"CPU\""), 1);
    /* every possible vCPU, highest first, with the type device_add takes */
    o = qmp(b, "{\"execute\":\"query-hotpluggable-cpus\"}");
    has(o, "{\"return\":[{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":1},\"vcpus-count\":1,"
           "\"type\":\"qemu32-i386-cpu\"},{\"props\":{\"core-id\":0,\"thread-id\":0,\"socket-id\":0},"
           "\"vcpus-count\":1,\"qom-path\":\"/machine/unattached/device[0]\",\"type\":\"qemu32-i386-cpu\"}]}");
    /* the guest's view before: CPU map 0x1, GPE 2 enabled by its ACPI driver */
    assert_int_equal(fx_in(b->fx, 0xaf00, 1), 0x01);
    fx_out(b->fx, GPE0 + 2, 1, 0x04);
    assert_int_equal(b->fx->isa[9], 0);
    /* refusals first: nothing changes */
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"id\":\"cpu-2\",\"driver\":\"qemu32-i386-cpu\","
               "\"socket-id\":2,\"core-id\":0,\"thread-id\":0}}"),
        "\"desc\":\"Invalid CPU socket-id: 2 must be in range 0:1\"");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":0}}"),
        "\"desc\":\"CPU[0] with APIC ID 0 exists\"");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":\"1\"}}"),
        "Invalid parameter type for 'socket-id', expected: integer");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":1,"
               "\"core-id\":1}}"), "Invalid CPU core-id: 1 must be in range 0:0");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":1,"
               "\"bogus\":1}}"), "Property 'qemu32-i386-cpu.bogus' not found");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\"}}"),
        "CPU socket-id is not set");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":1,"
               "\"id\":5}}"), "Invalid parameter type for 'id', expected: string");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"socket-id\":1}}"), "Parameter 'driver' is missing");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":[1]}}"),
        "Invalid parameter type for 'driver', expected: string");
    assert_int_equal(fx_in(b->fx, 0xaf00, 1), 0x01);
    assert_int_equal(fx_in(b->fx, GPE0, 2), 0);
    /* libxl's device_add: vCPU 1 present, GPE0 bit 2, SCI */
    assert_string_equal(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"id\":\"cpu-1\",\"driver\":"
                               "\"qemu32-i386-cpu\",\"socket-id\":1,\"core-id\":0,\"thread-id\":0},\"id\":9}"),
                        "{\"return\":{},\"id\":9}\r\n");
    assert_int_equal(fx_in(b->fx, 0xaf00, 1), 0x03);
    assert_int_equal(fx_in(b->fx, GPE0, 2), 0x04);
    assert_int_equal(b->fx->isa[9], 1);
    /* the guest's _E02 runs, then its GPE handling clears the status: SCI drops */
    fx_out(b->fx, GPE0, 1, 0x04);
    assert_int_equal(fx_in(b->fx, GPE0, 2), 0);
    assert_int_equal(b->fx->isa[9], 0);
    o = qmp(b, "{\"execute\":\"query-cpus-fast\"}");
    assert_int_equal(count(o, "cpu-index"), 2);
    has(o, "\"cpu-index\":1,");
    o = qmp(b, "{\"execute\":\"query-hotpluggable-cpus\"}");
    assert_int_equal(count(o, "qom-path"), 2);
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"qemu32-i386-cpu\",\"socket-id\":1}}"),
        "CPU[1] with APIC ID 1 exists");
    /* a status bit set while disabled raises no SCI until enabled */
    fx_out(b->fx, GPE0 + 2, 1, 0);
    /* device_del: no hot-unplug; unknown ids as QEMU answers them */
    has(qmp(b, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"cpu-1\"}}"), "hot-unplug is not supported");
    has(qmp(b, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"xenusb-0\"}}"),
        "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Device 'xenusb-0' not found\"}}");
    has(qmp(b, "{\"execute\":\"device_del\",\"arguments\":{}}"), "Parameter 'id' is missing");
    bed_down(b);
    (void)state;
}

static void test_cpus_from_hypervisor(void **state)
{
    /* the hypervisor says how many vCPUs the domain has, and which run */
    struct bed *b = bed_up("1,maxcpus=4", 0, 4);
    b->fx->vcpu_online[0] = 0x05; /* vCPU 2 runs although the map lacks it */
    const char *o = qmp(b, "{\"execute\":\"query-cpus-fast\"}");
    assert_int_equal(count(o, "cpu-index"), 2);
    has(o, "\"cpu-index\":2,");
    assert_int_equal(count(qmp(b, "{\"execute\":\"query-hotpluggable-cpus\"}"), "\"type\""), 4);
    /* it cannot say: -smp maxcpus counts */
    b->fx->vcpu_info_err = -EIO;
    b->fx->max_vcpus = 0;
    o = qmp(b, "{\"execute\":\"query-cpus-fast\"}");
    assert_int_equal(count(o, "cpu-index"), 1);
    assert_int_equal(count(qmp(b, "{\"execute\":\"query-hotpluggable-cpus\"}"), "\"type\""), 4);
    bed_down(b);
    (void)state;
}

static void test_s3(void **state)
{
    struct bed *b = bed_up("1", 0, 1);
    const char *o;
    /* not suspended: as QEMU, an error libxl logs (xl exits 0) */
    assert_string_equal(qmp(b, "{\"execute\":\"system_wakeup\",\"id\":1}"),
                        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Unable to wake up: guest is "
                        "not in suspended state\"},\"id\":1}\r\n");
    /* CMOS RAM beyond Xen's 14 bytes: what a guest writes stays */
    fx_out(b->fx, 0x70, 1, 0x80 | 0x40);
    fx_out(b->fx, 0x71, 1, 0x5a);
    fx_out(b->fx, 0x70, 1, 0x40);
    assert_int_equal(fx_in(b->fx, 0x71, 1), 0x5a);
    fx_out(b->fx, 0x70, 1, 0x8f);
    assert_int_equal(fx_in(b->fx, 0x71, 1), 0x00);
    fx_out(b->fx, GPE0 + 2, 1, 0x04);
    /* the guest writes SLP_TYP=1 (Xen's \_S3), then with SLP_EN */
    fx_out(b->fx, PMBASE + 4, 2, 1 << 10 | 1);
    fx_out(b->fx, PMBASE + 4, 2, SLP_EN | 1 << 10 | 1);
    assert_int_equal(b->fx->s_state, 0); /* not while the write is being answered */
    b->outlen = 0;
    for (int i = 0; i < 5 && b->fx->s_state != 3; i++)
        loop_run_once(b->fx->loop, 20);
    assert_int_equal(b->fx->s_state, 3);
    assert_int_equal(b->fx->shutdowns, 0);
    has(b->out, "\"event\":\"SUSPEND\"");
    fx_out(b->fx, 0x70, 1, 0x8f);
    assert_int_equal(fx_in(b->fx, 0x71, 1), 0xfe); /* SeaBIOS's S3 resume mark */
    o = qmp(b, "{\"execute\":\"query-status\"}");
    assert_string_equal(o, "{\"return\":{\"status\":\"suspended\",\"singlestep\":false,\"running\":false}}\r\n");
    has(qmp(b, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"}}"),
        "\"VM status: paused (suspended)\\r\\n\"");
    /* cont keeps it suspended (a later system_wakeup must still work) */
    qmp(b, "{\"execute\":\"cont\"}");
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"suspended\"");
    /* xl trigger s3resume: devices reset, then Xen wakes the domain */
    o = qmp(b, "{\"execute\":\"system_wakeup\",\"id\":2020372736}");
    has(o, "\"event\":\"WAKEUP\"");
    has(o, "{\"return\":{},\"id\":2020372736}");
    assert_int_equal(b->fx->s_state, 0);
    assert_int_equal(b->fx->s_state_sets, 2);
    assert_int_equal(fx_in(b->fx, GPE0 + 2, 1), 0);   /* GPE enables reset */
    assert_int_equal(fx_in(b->fx, PMBASE + 4, 2), 1); /* PM1a_CNT: SCI_EN only */
    fx_out(b->fx, 0x70, 1, 0x40);
    assert_int_equal(fx_in(b->fx, 0x71, 1), 0x5a);    /* CMOS RAM kept */
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"status\":\"running\"");
    has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "not in suspended state");
    /* the hypervisor refuses: an error, still suspended, a retry works */
    fx_out(b->fx, PMBASE + 4, 2, SLP_EN | 1 << 10 | 1);
    for (int i = 0; i < 5 && b->fx->s_state != 3; i++)
        loop_run_once(b->fx->loop, 20);
    b->fx->s_state = 0; /* as if Xen had lost it: set_s_state(0) is refused */
    has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "Unable to wake up: the hypervisor refused");
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"suspended\"");
    b->fx->s_state = 3;
    has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "{\"return\":{}}");
    /* other sleep types are not S3 */
    fx_out(b->fx, PMBASE + 4, 2, SLP_EN | 2 << 10 | 1);
    loop_run_once(b->fx->loop, 20);
    assert_int_equal(b->fx->s_state, 0);
    bed_down(b);
    (void)state;
}

/* ---- the waking vector: hvmloader's tables as SeaBIOS leaves them ---- */

#define FW_GFN 0xfc000ull
#define FW_PAGES 16
#define RSDP_AT 0xf5b30u
#define WAKE 0x991f0u

static void put_sdt(uint8_t *t, const char *sig, uint32_t len)
{
    memcpy(t, sig, 4);
    memcpy(t + 4, &len, 4);
}

/* An RSDP (revision REV: 2 points at an XSDT, 0 at an RSDT) in the BIOS area, the RSDT/XSDT,
 * an SSDT, the FADT and the FACS with VECTOR: in hvmloader's region (XSDT) or in RAM (RSDT). */
static void put_tables(struct bed *b, int rev, uint32_t vector)
{
    uint8_t *ram = b->fx->ram, *rsdp = ram + RSDP_AT, sum = 0;
    b->fx->fw = calloc(FW_PAGES, 4096);
    b->fx->fw_gfn = FW_GFN;
    b->fx->fw_n = FW_PAGES;
    uint8_t *base = rev >= 2 ? b->fx->fw : ram + 0x200000;
    uint64_t gbase = rev >= 2 ? FW_GFN << 12 : 0x200000;
    uint8_t *sdt = base + 0x1100, *ssdt = base + 0x1040, *fadt = base + 0x2000,
            *facs = base + 0x3000;
    uint64_t a_sdt = gbase + (uint64_t)(sdt - base), a_ssdt = gbase + 0x1040,
             a_fadt = gbase + 0x2000, a_facs = gbase + 0x3000;
    memcpy(rsdp, "RSD PTR ", 8);
    rsdp[15] = (uint8_t)rev;
    uint32_t r32 = (uint32_t)a_sdt;
    memcpy(rsdp + 16, &r32, 4);
    if (rev >= 2)
        memcpy(rsdp + 24, &a_sdt, 8);
    for (int i = 0; i < 20; i++)
        sum = (uint8_t)(sum + rsdp[i]);
    rsdp[8] = (uint8_t)-sum;
    unsigned esize = rev >= 2 ? 8 : 4;
    put_sdt(sdt, rev >= 2 ? "XSDT" : "RSDT", 36 + 2 * esize);
    memcpy(sdt + 36, &a_ssdt, esize); /* another table first */
    memcpy(sdt + 36 + esize, &a_fadt, esize);
    put_sdt(ssdt, "SSDT", 36);
    put_sdt(fadt, "FACP", 244);
    uint32_t f32 = rev >= 2 ? 0 : (uint32_t)a_facs; /* ACPI 2.0: X_FIRMWARE_CTRL only */
    memcpy(fadt + 36, &f32, 4);
    if (rev >= 2)
        memcpy(fadt + 132, &a_facs, 8);
    put_sdt(facs, "FACS", 64);
    memcpy(facs + 12, &vector, 4);
}

static void enter_s3(struct bed *b)
{
    fx_out(b->fx, PMBASE + 4, 2, SLP_EN | 1 << 10 | 1);
    for (int i = 0; i < 5 && b->fx->s_state != 3; i++)
        loop_run_once(b->fx->loop, 20);
    assert_int_equal(b->fx->s_state, 3);
}

static unsigned cmos(struct bed *b, unsigned idx)
{
    fx_out(b->fx, 0x70, 1, 0x80 | idx);
    return (unsigned)fx_in(b->fx, 0x71, 1);
}

/* SeaBIOS's S3 path (CMOS 0x0F = 0xFE) enables vCPU 0's APIC and opens an interrupt window in
 * real mode before it jumps to the waking vector; an event-channel upcall pending over S3 is
 * taken there and never EOId, and the resumed guest gets no interrupt again (hvmd-s3-loop).
 * With the OS's waking vector at hand, hvmd asks for the warm jump via 40:67 instead. */
static void test_s3_waking_vector(void **state)
{
    for (int rev = 0; rev <= 2; rev += 2) {
        struct bed *b = bed_up("1,maxcpus=2", 0, 2);
        put_tables(b, rev, WAKE);
        enter_s3(b);
        assert_int_equal(cmos(b, 0x0f), 0x0a);                 /* jump via 40:67 */
        assert_int_equal(ld16(b->fx->ram + 0x467), WAKE & 0xf); /* offset */
        assert_int_equal(ld16(b->fx->ram + 0x469), WAKE >> 4);  /* segment */
        has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "{\"return\":{}}");
        /* the guest moved its wake-up code: the next S3 jumps there */
        uint8_t *facs = (rev >= 2 ? b->fx->fw : b->fx->ram + 0x200000) + 0x3000;
        uint32_t v = 0x9a000;
        memcpy(facs + 12, &v, 4);
        enter_s3(b);
        assert_int_equal(cmos(b, 0x0f), 0x0a);
        assert_int_equal(ld16(b->fx->ram + 0x469), 0x9a00);
        assert_int_equal(ld16(b->fx->ram + 0x467), 0);
        has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "{\"return\":{}}");
        bed_down(b);
    }
    (void)state;
}

/* No usable waking vector: SeaBIOS's own S3 path (0xFE), 40:67 untouched. Tables are guest
 * memory: a bad RSDP checksum, a FACS without its signature, a vector above 1 MiB (not
 * reachable in real mode), an RSDT whose length claims more entries than anyone looks at. */
static void test_s3_no_waking_vector(void **state)
{
    for (int c = 0; c < 5; c++) {
        struct bed *b = bed_up("1", 0, 1);
        if (c > 0)
            put_tables(b, 2, c == 3 ? 0x100000u : WAKE);
        if (c == 1)
            b->fx->ram[RSDP_AT + 8]++;
        if (c == 2)
            b->fx->fw[0x3000] = 'X';
        if (c == 4) {
            uint32_t huge = 0xfffffff0u;                  /* the XSDT's length */
            memcpy(b->fx->fw + 0x1100 + 4, &huge, 4);
            memset(b->fx->fw + 0x1100 + 36, 0, 16); /* entries: nothing */
        }
        st32(b->fx->ram + 0x467, 0x12345678);
        enter_s3(b);
        assert_int_equal(cmos(b, 0x0f), 0xfe);
        assert_int_equal(ld32(b->fx->ram + 0x467), 0x12345678);
        has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "{\"return\":{}}");
        bed_down(b);
    }
    (void)state;
}

/* SeaBIOS's S3 resume waits for max(fw_cfg NB_CPUS, CMOS 0x5F + 1) CPUs to answer its SIPI,
 * and Xen starts every vCPU of the domain (maxcpus), plugged or not: 0x5F says maxcpus - 1. */
static void test_s3_cpu_count(void **state)
{
    static const struct { const char *smp; unsigned want; } t[] = {
        { "1", 0 }, { "1,maxcpus=2", 1 }, { "2,maxcpus=4", 3 }, { "3", 2 },
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct bed *b = bed_up(t[i].smp, 0, 4);
        fx_out(b->fx, 0x70, 1, 0x80 | 0x5f);
        assert_int_equal(fx_in(b->fx, 0x71, 1), t[i].want);
        fx_out(b->fx, 0x70, 1, 0x10); /* no floppy drive (SeaBIOS: "Bad floppy type" on 0xff) */
        assert_int_equal(fx_in(b->fx, 0x71, 1), 0);
        /* kept over an S3 cycle (the guest may suspend again) */
        fx_out(b->fx, PMBASE + 4, 2, SLP_EN | 1 << 10 | 1);
        for (int j = 0; j < 5 && b->fx->s_state != 3; j++)
            loop_run_once(b->fx->loop, 20);
        assert_int_equal(b->fx->s_state, 3);
        has(qmp(b, "{\"execute\":\"system_wakeup\"}"), "{\"return\":{}}");
        fx_out(b->fx, 0x70, 1, 0x5f);
        assert_int_equal(fx_in(b->fx, 0x71, 1), t[i].want);
        bed_down(b);
    }
    (void)state;
}

static void test_power_and_status(void **state)
{
    struct bed *b = bed_up("1", 1, 1);
    /* -S: prelaunch until the first cont, then paused after a stop */
    assert_string_equal(qmp(b, "{\"execute\":\"query-status\"}"),
                        "{\"return\":{\"status\":\"prelaunch\",\"singlestep\":false,\"running\":false}}\r\n");
    has(qmp(b, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"}}"),
        "VM status: paused (prelaunch)\\r\\n");
    qmp(b, "{\"execute\":\"cont\"}");
    assert_int_equal(b->conts, 1);
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"status\":\"running\",\"singlestep\":false,\"running\":true");
    qmp(b, "{\"execute\":\"stop\"}");
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"status\":\"paused\"");
    has(qmp(b, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"}}"),
        "\"VM status: paused\\r\\n\"");
    qmp(b, "{\"execute\":\"cont\"}");
    /* the power button is Xen's (PM1a_STS is Xen's register) */
    const char *o = qmp(b, "{\"execute\":\"system_powerdown\"}");
    has(o, "\"event\":\"POWERDOWN\"");
    has(o, "{\"return\":{}}");
    assert_int_equal(b->fx->power_buttons, 1);
    /* a reset is Xen's reboot of the domain */
    o = qmp(b, "{\"execute\":\"system_reset\",\"id\":3}");
    has(o, "{\"return\":{},\"id\":3}");
    has(o, "\"event\":\"RESET\"");
    assert_int_equal(b->fx->shutdown_reason, HV_REBOOT);
    /* query-pci: a valid list (libxl asks it only around pass-through) */
    o = qmp(b, "{\"execute\":\"query-pci\"}");
    has(o, "{\"return\":[{\"bus\":0,\"devices\":[{\"bus\":0,\"slot\":0,\"function\":0,\"class_info\":"
           "{\"class\":1536},\"id\":{\"device\":4663,\"vendor\":32902},\"qdev_id\":\"\",\"regions\":[]}");
    has(o, "\"slot\":1,\"function\":3,");
    bed_down(b);
    (void)state;
}

/* x-hvmd-io-stats (make profile): round trips per region and per port, in and out, and the
 * config accesses per PCI function, as the guest made them */
static uint64_t wide_read(void *o, uint64_t off, unsigned size) { (void)o; (void)size; return off; }
static void wide_write(void *o, uint64_t off, unsigned size, uint64_t v) { (void)o; (void)off; (void)size; (void)v; }
static const struct io_ops wide_ops = { .read = wide_read, .write = wide_write };

static void test_io_stats(void **state)
{
    struct bed *b = bed_up("1", 0, 1);
    fx_out(b->fx, 0xcf8, 4, 0x80000000);
    (void)fx_in(b->fx, 0xcf8, 4);
    /* a region of 32 ports: its first 16 are counted one by one, the rest only in its total */
    struct io_region *wide;
    assert_int_equal(bus_add_pio(b->fx->vm.bus, "wide", 0x600, 32, &wide_ops, NULL, &wide), 0);
    assert_int_equal(fx_in(b->fx, 0x600 + 15, 1), 15);
    assert_int_equal(fx_in(b->fx, 0x600 + 20, 1), 20);
    fx_out(b->fx, 0x600 + 31, 1, 1);
    const char *o = qmp(b, "{\"execute\":\"x-hvmd-io-stats\"}");
    /* hvmloader's two config writes in bed_up went through 0xcf8 too (and 00:01.3's config) */
    has(o, "\"name\":\"pci-cf8\",\"space\":\"port\",\"base\":3320,\"len\":4,\"trips\":4,");
    has(o, "\"ports\":[{\"port\":3320,\"in\":1,\"out\":3}]");
    has(o, "\"name\":\"wide\",\"space\":\"port\",\"base\":1536,\"len\":32,\"trips\":3,\"reads\":2,"
           "\"writes\":1,\"ports\":[{\"port\":1551,\"in\":1,\"out\":0}]}");
    has(o, "\"pci-config\":2,");
    has(o, "\"unclaimed\":0");
    has(o, "{\"name\":\"piix4-acpi\",\"slot\":1,\"function\":3,\"config-reads\":0,\"config-writes\":2}");
    bus_del(b->fx->vm.bus, wide);
    bed_down(b);
    (void)state;
}

/* x-hvmd-io-stats' timer-wakeups: the loop's timer expirations (the idle scenario
 * hvmd-idle-wakeups reads it; test_loop counts them exactly) */
static long long timer_wakeups(struct bed *b)
{
    const char *o = qmp(b, "{\"execute\":\"x-hvmd-io-stats\"}");
    const char *p = strstr(o, "\"timer-wakeups\":");
    assert_non_null(p);
    return strtoll(p + strlen("\"timer-wakeups\":"), NULL, 10);
}

static void on_tick(void *opaque) { ++*(int *)opaque; }

static void test_io_stats_timer_wakeups(void **state)
{
    struct bed *b = bed_up("1", 0, 1);
    int ticks = 0;
    struct loop_timer *t = loop_timer_new(b->fx->loop, on_tick, &ticks);
    assert_non_null(t);
    long long before = timer_wakeups(b);
    loop_timer_arm(t, 1000); /* 1 us */
    for (int i = 0; i < 100 && !ticks; i++)
        loop_run_once(b->fx->loop, 20);
    assert_int_equal(ticks, 1);
    assert_true(timer_wakeups(b) >= before + 1); /* the bed's own devices may add theirs */
    loop_timer_free(t);
    bed_down(b);
    (void)state;
}

static const char *hmp(struct bed *b, const char *line)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s\"}}", line);
    return qmp(b, json);
}

static void test_hmp(void **state)
{
    struct bed *b = bed_up("2", 0, 2);
    static const uint8_t bytes[] = { 0x55, 0xaa, 0x00, 0x80, 0x41, 0x0a, 0x27, 0xff,
                                     0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xfe };
    memcpy(b->fx->ram + 0x1000, bytes, sizeof(bytes));
    assert_string_equal(hmp(b, "info version"), "{\"return\":\"7.2.0 (hvmd)\\r\\n\"}\r\n");
    has(hmp(b, "help"), "xp /fmt addr -- physical memory dump");
    has(hmp(b, "?"), "info status");
    assert_string_equal(hmp(b, "info block"), "{\"return\":\"\"}\r\n"); /* no block device here */
    const char *o = hmp(b, "info cpus");
    has(o, "{\"return\":\"* CPU #0: thread_id=");
    has(o, "\\r\\n  CPU #1: thread_id=");
    /* xp: QEMU monitor formats */
    assert_string_equal(hmp(b, "xp /4xw 0x1000"),
                        "{\"return\":\"0000000000001000: 0x8000aa55 0xff270a41 0x04030201 0x08070605\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp 0x1000"), "{\"return\":\"0000000000001000: 0x8000aa55\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /3xb 4096"), "{\"return\":\"0000000000001000: 0x55 0xaa 0x00\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /2dh 0x1000"), "{\"return\":\"0000000000001000: -21931 -32768\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /2uh 0x1000"), "{\"return\":\"0000000000001000: 43605 32768\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /2ob 0x1000"), "{\"return\":\"0000000000001000: 0125 0252\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /1xg 0x1000"), "{\"return\":\"0000000000001000: 0xff270a418000aa55\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /8c 0x1000"),
                        "{\"return\":\"0000000000001000: 'U' '\\\\xaa' '\\\\x00' '\\\\x80' 'A' '\\\\n' '\\\\'' '\\\\xff'\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, "xp /17xb 0x1000"),
                        "{\"return\":\"0000000000001000: 0x55 0xaa 0x00 0x80 0x41 0x0a 0x27 0xff\\r\\n"
                        "0000000000001008: 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08\\r\\n"
                        "0000000000001010: 0xfe\\r\\n\"}\r\n");
    /* what it refuses, as monitor text (xl prints it) */
    has(hmp(b, "xp /4z 0x1000"), "invalid char in format: 'z'");
    has(hmp(b, "xp /4xw 0x2000000"), "0000000002000000: Cannot access memory\\r\\n");
    has(hmp(b, "xp /2xg 0xfffffffffffffff8"), "Cannot access memory");
    has(hmp(b, "xp"), "Error: xp: expected an address");
    has(hmp(b, "xp /4x -1"), "Error: xp: expected an address");
    has(hmp(b, "xp /9999xg 0"), "Error: xp: at most 4096 bytes");
    has(hmp(b, "xp /0x 0"), "Error: xp: at most 4096 bytes");
    o = hmp(b, "xp /4096xb 0");
    assert_int_equal(count(o, "\\r\\n"), 512);
    has(hmp(b, "screendump /tmp/x.ppm"), "Error: There is no console to take a screendump from");
    /* sendkey: pressed in order, released in reverse, as scan codes the guest's i8042 gives */
    assert_string_equal(hmp(b, "sendkey ctrl-alt-delete"), "{\"return\":\"\"}\r\n");
    static const uint8_t cad[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
    for (unsigned i = 0; i < sizeof(cad); i++) {
        assert_true(fx_in(b->fx, 0x64, 1) & 1);
        assert_int_equal(fx_in(b->fx, 0x60, 1), cad[i]);
    }
    assert_int_equal(fx_in(b->fx, 0x64, 1) & 1, 0);
    has(hmp(b, "sendkey ctrl-foo"), "Error: sendkey: unknown key: 'foo'");
    has(hmp(b, "sendkey"), "Error: sendkey: which keys?");
    has(hmp(b, "sendkey a--b"), "Error: sendkey: invalid key list");
    assert_int_equal(fx_in(b->fx, 0x64, 1) & 1, 0);  /* nothing sent for a bad list */
    /* QMP send-key, as libvirt and scripts send it */
    assert_string_equal(qmp(b, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
                               "{\"type\":\"qcode\",\"data\":\"shift\"},"
                               "{\"type\":\"qcode\",\"data\":\"a\"}]}}"),
                        "{\"return\":{}}\r\n");
    static const uint8_t sa[] = { 0x2a, 0x1e, 0x9e, 0xaa };
    for (unsigned i = 0; i < sizeof(sa); i++)
        assert_int_equal(fx_in(b->fx, 0x60, 1), sa[i]);
    has(qmp(b, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
               "{\"type\":\"qcode\",\"data\":\"nokey\"}]}}"),
        "Parameter 'keys.data' does not accept value 'nokey'");
    has(qmp(b, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":["
               "{\"type\":\"number\",\"data\":30}]}}"), "qcode only");
    has(qmp(b, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[1]}}"), "key 0: expected");
    has(qmp(b, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[]}}"), "1 to 16 keys");
    assert_string_equal(hmp(b, "  foo bar"), "{\"return\":\"unknown command: 'foo'\\r\\n\"}\r\n");
    assert_string_equal(hmp(b, ""), "{\"return\":\"\"}\r\n");
    has(hmp(b, "info nothing"), "info status|version|block|cpus");
    has(qmp(b, "{\"execute\":\"human-monitor-command\"}"), "Parameter 'command-line' is missing");
    has(qmp(b, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":1}}"),
        "Invalid parameter type for 'command-line', expected: string");
    bed_down(b);
    (void)state;
}

static void test_bad_input(void **state)
{
    struct bed *b = bed_up("1", 0, 1);
    const char *o;
    has(qmp(b, "{\"execute\":\"query-status\",\"arguments\":{\"x\":1},\"id\":4}"),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'x' is unexpected\"},\"id\":4}");
    has(qmp(b, "{\"execute\":\"query-status\",\"arguments\":[1]}"),
        "QMP input member 'arguments' must be an object");
    has(qmp(b, "{\"execute\":\"query-status\",\"bogus\":1,\"id\":5}"),
        "\"desc\":\"QMP input member 'bogus' is unexpected\"},\"id\":5}");
    has(qmp(b, "{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":\"0\"}}"),
        "Invalid parameter type for 'fdset-id', expected: integer");
    has(qmp(b, "{\"execute\":\"remove-fd\",\"arguments\":{}}"), "Parameter 'fdset-id' is missing");
    has(qmp(b, "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":\"oob\"}}"),
        "Invalid parameter type for 'enable', expected: array");
    has(qmp(b, "{\"execute\":\"system_wakeup\",\"arguments\":{\"x\":null}}"), "Parameter 'x' is unexpected");
    /* libxl's save (test_save.c) to a descriptor set never added: refused naming it; the
     * COLO commands hvmd does not have: CommandNotFound */
    has(qmp(b, "{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"live\":false,\"filename\":\"/dev/fdset/0\"}}"),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Could not open '/dev/fdset/0': no such descriptor set\"}}");
    has(qmp(b, "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{}}"), "Parameter 'enable' is missing");
    has(qmp(b, "{\"execute\":\"xen-colo-do-checkpoint\"}"), "CommandNotFound");
    has(qmp(b, "{\"execute\":\"cpu-add\",\"arguments\":{\"id\":1}}"), "CommandNotFound");
    /* devices hvmd lacks: refused as QEMU refuses an unknown driver */
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"xen-pci-passthrough\",\"id\":"
               "\"pci-pt-03_00.0\",\"hostaddr\":\"0000:03:00.0\"}}"),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"'xen-pci-passthrough' is not a valid device model name\"}}");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"usb-ehci\",\"id\":\"xenusb-0\"}}"),
        "'usb-ehci' is not a valid device model name");
    has(qmp(b, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"usb-host\",\"id\":\"xenusb-1-2\","
               "\"bus\":\"xenusb-0.0\",\"port\":\"1\",\"hostbus\":\"1\",\"hostaddr\":\"2\"}}"),
        "'usb-host' is not a valid device model name");
    /* a huge string: answered, the desc cut short */
    size_t n = 60000;
    char *big = malloc(n + 200);
    int k = snprintf(big, 200, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"");
    memset(big + k, 'a', n);
    strcpy(big + k + n, "\"},\"id\":6}");
    o = qmp(b, big);
    has(o, "unknown command: 'aaaa");
    has(o, "\"id\":6}");
    assert_true(strlen(o) < 300);
    k = snprintf(big, 200, "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"");
    memset(big + k, 'b', n);
    strcpy(big + k + n, "\"}}");
    o = qmp(b, big);
    has(o, "GenericError");
    assert_true(strlen(o) < 400);
    free(big);
    /* after all that, it still answers */
    has(qmp(b, "{\"execute\":\"query-status\"}"), "\"running\"");
    bed_down(b);
    (void)state;
}

static int connect_to(const char *path)
{
    int fd = fx_unix_connect(path);
    assert_true(fd >= 0);
    return fd;
}

/* Everything waiting in FD after serving the loop a little. */
static void drain(struct bed *b, int fd, char *buf, size_t max)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < 40; i++) {
        loop_run_once(b->fx->loop, 5);
        struct pollfd p = { fd, POLLIN, 0 };
        while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && len + 1 < max) {
            ssize_t r = read(fd, buf + len, max - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            buf[len] = 0;
        }
        if (strstr(buf, "\"return\"") || strstr(buf, "\"error\""))
            break;
    }
}

static void test_client_vanishes(void **state)
{
    struct bed *b = bed_up("1,maxcpus=2", 0, 2);
    char buf[4096];
    /* gone before negotiating, gone mid-command, gone before reading a long answer */
    for (int round = 0; round < 3; round++) {
        int fd = connect_to(b->path);
        loop_run_once(b->fx->loop, 5);
        if (round >= 1) {
            const char *part = "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"human-monitor-comm";
            assert_true(write(fd, part, strlen(part)) > 0);
        }
        if (round == 2) {
            const char *xp = "and\",\"arguments\":{\"command-line\":\"xp /4096xb 0\"}}";
            assert_true(write(fd, xp, strlen(xp)) > 0);
        }
        close(fd);
        for (int i = 0; i < 5; i++)
            loop_run_once(b->fx->loop, 5);
    }
    /* the next client is served: a command before negotiation, then libxl's vcpu-set */
    int fd = connect_to(b->path);
    drain(b, fd, buf, sizeof(buf));
    has(buf, "\"QMP\"");
    assert_true(write(fd, "{\"execute\":\"query-cpus-fast\",\"id\":1}", 36) == 36);
    drain(b, fd, buf, sizeof(buf));
    has(buf, "Expecting capabilities negotiation with 'qmp_capabilities'");
    const char *neg = "{\"execute\":\"qmp_capabilities\",\"id\":2020372737}\r\n";
    assert_true(write(fd, neg, strlen(neg)) == (ssize_t)strlen(neg));
    drain(b, fd, buf, sizeof(buf));
    const char *add = "{\"execute\":\"device_add\",\"id\":2020372738,\"arguments\":{\"id\":\"cpu-1\","
                      "\"driver\":\"qemu32-i386-cpu\",\"socket-id\":1,\"core-id\":0,\"thread-id\":0}}\r\n";
    assert_true(write(fd, add, strlen(add)) == (ssize_t)strlen(add));
    drain(b, fd, buf, sizeof(buf));
    assert_string_equal(buf, "{\"return\":{},\"id\":2020372738}\r\n");
    close(fd);
    loop_run_once(b->fx->loop, 5);
    bed_down(b);
    (void)state;
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_cpus_from_hypervisor),
        cmocka_unit_test(test_s3),
        cmocka_unit_test(test_s3_cpu_count),
        cmocka_unit_test(test_s3_waking_vector),
        cmocka_unit_test(test_s3_no_waking_vector),
        cmocka_unit_test(test_power_and_status),
        cmocka_unit_test(test_hmp),
        cmocka_unit_test(test_io_stats),
        cmocka_unit_test(test_io_stats_timer_wakeups),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_client_vanishes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
