/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for what `hvmctl run` reads from a guest and from its device model: console
 * bytes of every source into the engine (partial lines, escape sequences, NULs, \r, lines
 * longer than RUN_LINE_MAX), Xen console ring lines (run_xen_line_of), the device model's
 * answer for the VGA text screen (run_vga_decode), the domain's end; then the reports. The
 * JSON report must parse and the JUnit XML must hold no raw control character and no '<'
 * inside text for any guest text, or the target aborts. The per-test results (TAP, LTP and a
 * --test pattern), --login's prompts and --reboots 2 are on: a reboot event is followed as
 * run/guest.c follows it, until a third.
 *
 * Input: records, each an opcode byte, then a u16 length (little-endian) and that many bytes:
 *   0..3  console bytes from source op (serial, pv, xen, dm)
 *   4     a Xen ring line (the first byte: the domid asked about)
 *   5     a VGA xp answer (NUL-terminated copy)
 *   6     a domain event (the first byte: which) and flush
 *   7     the clock moves on by the first byte / 4 seconds, and the engine ticks
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl_tree.h>

#include "toolstack/run/run.h"

static void check_xml(const char *x, size_t n)
{
    int in_tag = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)x[i];
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
            abort(); /* a raw control character: not XML 1.0 */
        if (c == '<') {
            if (in_tag)
                abort(); /* '<' inside a tag: guest text was not escaped */
            in_tag = 1;
        } else if (c == '>') {
            in_tag = 0;
        } else if (in_tag && c == '"') {
            /* an attribute value: it must close before the tag does */
            size_t j = i + 1;
            while (j < n && x[j] != '"' && x[j] != '<' && x[j] != '>')
                j++;
            if (j >= n || x[j] != '"')
                abort();
            i = j;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run_spec spec;
    struct run_engine e;
    struct run_result r;
    char err[256];
    double t = 0.5;
    size_t i = 0;

    run_spec_init(&spec);
    if (run_spec_add_expect(&spec, "console:^HVMD-GUEST-UP", 30, err, sizeof(err)) ||
        run_spec_add_expect(&spec, "xen:SeaBIOS", 0, err, sizeof(err)) ||
        run_spec_add_expect(&spec, "any:DONE$", 10, err, sizeof(err)) ||
        run_spec_add_fail(&spec, "pv:TEST .* FAILED", err, sizeof(err)) ||
        run_spec_set_tests(&spec, "tap,ltp", err, sizeof(err)) ||
        run_spec_add_test_pattern(&spec, "console:^RESULT (.*): ([A-Za-z ]+)$", err, sizeof(err)) ||
        run_spec_set_login(&spec, "root:pw", err, sizeof(err)))
        abort();
    spec.reboots = 2;
    spec.timeout_s = 600;
    if (run_engine_init(&e, &spec, NULL, NULL) < 0)
        abort();

    while (i + 3 <= size && !run_engine_done(&e)) {
        unsigned op = data[i] & 7;
        size_t n = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
        i += 3;
        if (n > size - i)
            n = size - i;
        const char *p = (const char *)data + i;
        i += n;
        switch (op) {
        case 0: case 1: case 2: case 3:
            run_engine_feed(&e, (enum run_src)op, p, n, t);
            break;
        case 4: {
            char *line = malloc(n + 1);
            if (!line)
                abort();
            memcpy(line, p, n);
            line[n] = '\0';
            uint32_t domid = n ? (uint8_t)p[0] : 0;
            long off = run_xen_line_of(line, domid);
            if (off < -1 || off > (long)strlen(line))
                abort();
            if (off >= 0)
                run_engine_line(&e, RUN_SRC_XEN, line + off, strlen(line + off), t);
            free(line);
            break;
        }
        case 5: {
            char *xp = malloc(n + 1), *text = NULL;
            if (!xp)
                abort();
            memcpy(xp, p, n);
            xp[n] = '\0';
            if (run_vga_decode(xp, &text) == 0 && !text)
                abort();
            free(text);
            free(xp);
            break;
        }
        case 6: {
            enum run_event ev = (enum run_event)((n ? (uint8_t)p[0] : 0) % (RUN_EV_DM_EXIT + 1));

            if (ev == RUN_EV_REBOOT && e.n_reboots < spec.reboots) {
                run_engine_rebooted(&e, t);
                break;
            }
            run_engine_flush_all(&e, t);
            run_engine_event(&e, ev, n > 1 ? "detail" : NULL, t);
            break;
        }
        case 7:
            t += (n ? (uint8_t)p[0] : 1) / 4.0;
            run_engine_tick(&e, t);
            break;
        }
    }
    run_engine_flush_all(&e, t);
    if (!run_engine_done(&e))
        run_engine_decide(&e, RUN_ERROR, "interrupted", t, "the input ended at %.1f s", t);

    run_result_init(&r);
    r.name = strdup("fuzz");
    r.config = strdup("/tmp/fuzz.cfg");
    r.domid = 7;
    r.type = "hvm";
    r.spec = &spec;
    run_result_take(&r, &e);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    run_report_json(f, &r, 0);
    fclose(f);
    char ebuf[256];
    yajl_val v = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
    if (!v) {
        fprintf(stderr, "JSON does not parse: %s\n%s\n", ebuf, buf);
        abort();
    }
    yajl_tree_free(v);
    free(buf);

    buf = NULL;
    len = 0;
    f = open_memstream(&buf, &len);
    if (!f)
        abort();
    run_report_junit_suite(f, &r);
    fclose(f);
    check_xml(buf, len);
    free(buf);

    run_result_free(&r);
    run_engine_free(&e);
    run_spec_free(&spec);
    return 0;
}
