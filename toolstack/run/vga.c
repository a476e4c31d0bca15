/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vga.c: the VGA text screen of an HVM guest, for `hvmctl run`'s artifacts: what the BIOS,
 * a boot loader or an installer last showed, as text.
 *
 * The device model is asked through its QMP monitor, the one libxl makes it open for
 * libxenstat (/var/run/xen/qmp-libxenstat-D; libxl's own, qmp-libxl-D, if that is missing), with
 * the monitor command `xp /2000hx 0xb8000`: 2000 16-bit cells of the text buffer as the guest's
 * CPU reads them (the low byte a character in code page 437, the high byte its colours), through
 * QMP's human-monitor-command. qemu-xen answers it from its VGA's planes; a device model that
 * wants its screen in the artifacts answers the same command the same way (LIBXL-DM.md).
 * The answer is JSON (parsed with yajl) and goes through a strict decoder: 80 x 25 cells or none.
 */
#include "toolstack/run/run.h"
#include "toolstack/ts.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl_tree.h>

#define VGA_COLS 80
#define VGA_ROWS 25

/* code page 437, 0x80-0xff, as Unicode (what a PC's text mode draws) */
static const unsigned short cp437_high[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8, 0x00ef,
    0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
    0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa,
    0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556, 0x2555, 0x2563, 0x2551, 0x2557,
    0x255d, 0x255c, 0x255b, 0x2510, 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559,
    0x2558, 0x2552, 0x2553, 0x256b, 0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
    0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, 0x03a6, 0x0398, 0x03a9, 0x03b4,
    0x221e, 0x03c6, 0x03b5, 0x2229, 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248,
    0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

int run_vga_decode(const char *xp, char **text)
{
    unsigned cells[VGA_ROWS * VGA_COLS];
    size_t n = 0, len = 0, cap = VGA_ROWS * (VGA_COLS * 3 + 1) + 1;
    const char *p = xp;
    char *out;
    int row, last = -1;

    *text = NULL;
    /* lines "00000000000b8000: 0x0753 0x0765 ...": the address, a colon, hex cells */
    while (p && *p && n < VGA_ROWS * VGA_COLS) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p), *q = memchr(p, ':', (size_t)(end - p));

        if (!q)
            return -EINVAL;
        for (q++; q < end && n < VGA_ROWS * VGA_COLS;) {
            char *e;
            unsigned long v;

            while (q < end && (*q == ' ' || *q == '\r'))
                q++;
            if (q >= end)
                break;
            if (q + 2 > end || q[0] != '0' || q[1] != 'x')
                return -EINVAL;
            v = strtoul(q, &e, 16);
            if (e == q + 2 || e > end || v > 0xffff)
                return -EINVAL;
            cells[n++] = (unsigned)v;
            q = e;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (n != VGA_ROWS * VGA_COLS)
        return -EINVAL;
    out = malloc(cap);
    if (!out)
        return -ENOMEM;
    for (row = 0; row < VGA_ROWS; row++) {
        size_t start = len, keep = len;
        int col;

        for (col = 0; col < VGA_COLS; col++) {
            unsigned c = cells[row * VGA_COLS + col] & 0xff;

            if (c == 0 || c == 0xff)
                c = ' ';
            else if (c < 0x20 || c == 0x7f)
                c = '.';    /* the glyphs of control codes (smileys, arrows): not text */
            else if (c >= 0x80)
                c = cp437_high[c - 0x80];
            len += put_utf8(out + len, c);
            if (c != ' ')
                keep = len;
        }
        len = keep;     /* no trailing blanks */
        if (len > start)
            last = row;
        out[len++] = '\n';
    }
    /* no trailing empty rows */
    if (last < 0) {
        len = 0;
    } else {
        size_t i, rows = 0;

        for (i = 0; i < len; i++)
            if (out[i] == '\n' && ++rows == (size_t)last + 1) {
                len = i + 1;
                break;
            }
    }
    out[len] = '\0';
    *text = out;
    return 0;
}

/* ---- a small QMP client ------------------------------------------------------------------------ */

struct qmp {
    int fd;
    double deadline;
    char buf[65536];
    size_t len;
};

static int qmp_send(struct qmp *q, const char *msg)
{
    size_t n = strlen(msg), off = 0;

    while (off < n) {
        ssize_t w = send(q->fd, msg + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -errno;
        off += (size_t)w;
    }
    return 0;
}

/* the next line that is not an event, in *line (the caller frees it) */
static int qmp_line(struct qmp *q, char **line)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);

        if (nl) {
            size_t n = (size_t)(nl - q->buf) + 1;
            char *one = strndup(q->buf, n);

            if (!one)
                return -ENOMEM;
            memmove(q->buf, q->buf + n, q->len - n);
            q->len -= n;
            if (strstr(one, "\"event\"") && !strstr(one, "\"return\"")) {
                free(one);
                continue;   /* an asynchronous event: not our answer */
            }
            *line = one;
            return 0;
        }
        if (q->len == sizeof(q->buf) - 1)
            return -EMSGSIZE;
        {
            struct pollfd p = { .fd = q->fd, .events = POLLIN };
            double left = q->deadline - run_now();
            ssize_t r;

            if (left <= 0)
                return -ETIMEDOUT;
            if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
                return -ETIMEDOUT;
            r = recv(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return r == 0 ? -ECONNRESET : -errno;
            q->len += (size_t)r;
        }
    }
}

/* the answer to a command: 0 and the "return" value (a string, or NULL if not a string),
 * or -EPROTO with the error's description in err */
static int qmp_answer(struct qmp *q, char **ret, char *err, size_t errlen)
{
    const char *rpath[] = { "return", NULL };
    const char *epath[] = { "error", "desc", NULL };
    char ebuf[128], *line;
    yajl_val root, v;
    int rc = qmp_line(q, &line);

    *ret = NULL;
    if (rc)
        return rc;
    root = yajl_tree_parse(line, ebuf, sizeof(ebuf));
    free(line);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", ebuf);
        return -EPROTO;
    }
    v = yajl_tree_get(root, rpath, yajl_t_any);
    if (v) {
        if (YAJL_IS_STRING(v))
            *ret = ts_strdup(YAJL_GET_STRING(v));
        yajl_tree_free(root);
        return 0;
    }
    v = yajl_tree_get(root, epath, yajl_t_string);
    snprintf(err, errlen, "%s", v ? YAJL_GET_STRING(v) : "an answer with no return");
    yajl_tree_free(root);
    return -EPROTO;
}

int run_qmp_hmp(const char *path, const char *cmdline, double timeout_s, char **out, char *err,
                size_t errlen)
{
    struct sockaddr_un sa;
    struct qmp *q;
    char *msg = NULL, *line, *ret = NULL, *esc, *w;
    const char *c;
    int rc;

    *out = NULL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->deadline = run_now() + timeout_s;
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* the greeting, then capabilities negotiation */
    rc = qmp_line(q, &line);
    if (rc || !strstr(line, "\"QMP\"")) {
        snprintf(err, errlen, "%s: no QMP greeting (%s)", path, rc ? strerror(-rc) : "something else");
        if (!rc)
            free(line);
        rc = rc ? rc : -EPROTO;
        goto out;
    }
    free(line);
    rc = qmp_send(q, "{\"execute\": \"qmp_capabilities\"}\r\n");
    if (!rc)
        rc = qmp_answer(q, &ret, err, errlen);
    free(ret);
    ret = NULL;
    if (rc) {
        if (rc != -EPROTO)
            snprintf(err, errlen, "%s: qmp_capabilities: %s", path, strerror(-rc));
        goto out;
    }
    /* the command line, as a JSON string */
    esc = malloc(strlen(cmdline) * 6 + 1);
    if (!esc) {
        rc = -ENOMEM;
        goto out;
    }
    for (c = cmdline, w = esc; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *w++ = '\\';
            *w++ = *c;
        } else if ((unsigned char)*c < 0x20) {
            w += sprintf(w, "\\u%04x", (unsigned char)*c);
        } else {
            *w++ = *c;
        }
    }
    *w = '\0';
    msg = ts_asprintf("{\"execute\": \"human-monitor-command\", \"arguments\": "
                      "{\"command-line\": \"%s\"}}\r\n", esc);
    free(esc);
    rc = qmp_send(q, msg);
    if (!rc)
        rc = qmp_answer(q, &ret, err, errlen);
    if (rc) {
        if (rc != -EPROTO)
            snprintf(err, errlen, "%s: human-monitor-command: %s", path, strerror(-rc));
        goto out;
    }
    if (!ret) {
        snprintf(err, errlen, "%s: human-monitor-command returned no text", path);
        rc = -EPROTO;
        goto out;
    }
    *out = ret;
out:
    free(msg);
    if (q->fd >= 0)
        close(q->fd);
    free(q);
    return rc;
}

int run_vga_text(uint32_t domid, char **text, char *why, size_t whylen)
{
    static const char *const socks[] = { "qmp-libxenstat", "qmp-libxl" };
    char path[80], err[256] = "";
    char *xp = NULL;
    size_t i;
    int rc = -ENOENT;

    *text = NULL;
    for (i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
        snprintf(path, sizeof(path), "/var/run/xen/%s-%u", socks[i], domid);
        if (access(path, F_OK) < 0)
            continue;
        /* hvmd: the screen shown; another device model (or a mode that is not 80x25 text):
         * its answer does not decode, and the text window is read instead */
        rc = run_qmp_hmp(path, "x-text-screen", 5.0, &xp, err, sizeof(err));
        if (rc == 0 && run_vga_decode(xp, text) == 0) {
            free(xp);
            return 0;
        }
        free(xp);
        xp = NULL;
        rc = run_qmp_hmp(path, "xp /2000hx 0xb8000", 5.0, &xp, err, sizeof(err));
        if (rc == 0)
            break;
    }
    if (rc) {
        snprintf(why, whylen, "%s", err[0] ? err : "the device model has no QMP socket");
        return rc;
    }
    rc = run_vga_decode(xp, text);
    if (rc)
        snprintf(why, whylen, "the device model's answer to xp is not 80x25 text cells");
    free(xp);
    return rc;
}

/* the first QMP socket of domid's device model that answers CMDLINE */
static int hmp_domain(uint32_t domid, const char *cmdline, char **out, char *why, size_t whylen)
{
    static const char *const socks[] = { "qmp-libxenstat", "qmp-libxl" };
    char path[80], err[256] = "";
    size_t i;
    int rc = -ENOENT;

    *out = NULL;
    for (i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
        snprintf(path, sizeof(path), "/var/run/xen/%s-%u", socks[i], domid);
        if (access(path, F_OK) < 0)
            continue;
        rc = run_qmp_hmp(path, cmdline, 5.0, out, err, sizeof(err));
        if (rc == 0)
            return 0;
    }
    snprintf(why, whylen, "%s", err[0] ? err : "the device model has no QMP socket");
    return rc;
}

int run_vga_screendump(uint32_t domid, const char *path, char *why, size_t whylen)
{
    char *cmd, *out = NULL;
    int rc;

    if (path[0] != '/' || strpbrk(path, " \"\n")) {
        snprintf(why, whylen, "%s: not an absolute path without blanks", path);
        return -EINVAL;
    }
    cmd = ts_asprintf("screendump %s -f png", path);
    rc = hmp_domain(domid, cmd, &out, why, whylen);
    free(cmd);
    if (rc == 0 && out && *out) { /* HMP says nothing when it worked */
        snprintf(why, whylen, "%.*s", (int)strcspn(out, "\r\n"), out);
        rc = -EIO;
    }
    free(out);
    return rc;
}

int run_vga_type(uint32_t domid, char *const *keys, char *why, size_t whylen)
{
    for (size_t i = 0; keys[i]; i++) {
        char *cmd = ts_asprintf("sendkey %s", keys[i]), *out = NULL;
        int rc = hmp_domain(domid, cmd, &out, why, whylen);

        free(cmd);
        if (rc == 0 && out && *out) { /* an error, as HMP words it */
            snprintf(why, whylen, "sendkey %s: %.*s", keys[i], (int)strcspn(out, "\r\n"), out);
            rc = -EIO;
        }
        free(out);
        if (rc)
            return rc;
        /* (a key a guest polls for, as GRUB and the BIOS do, must not outrun its buffer) */
        usleep(20000);
    }
    return 0;
}

/* ---- the screen as a source of lines ------------------------------------------------------------ */

/* TEXT's rows (at most VGA_ROWS): starts and lengths; returns how many */
static int screen_rows(const char *text, const char **row, size_t *len)
{
    int n = 0;

    while (text && *text && n < VGA_ROWS) {
        size_t l = strcspn(text, "\n");

        row[n] = text;
        len[n++] = l;
        text += l;
        if (*text == '\n')
            text++;
    }
    return n;
}

static bool row_eq(const char *a, size_t la, const char *b, size_t lb)
{
    return la == lb && !memcmp(a, b, la);
}

void run_screen_diff(const char *prev, const char *cur,
                     void (*fn)(void *opaque, const char *row, size_t len), void *opaque)
{
    const char *p[VGA_ROWS], *c[VGA_ROWS];
    size_t pl[VGA_ROWS], cl[VGA_ROWS];
    int np = screen_rows(prev, p, pl), nc = screen_rows(cur, c, cl), k, i, from = 0;
    int last = np - 1;  /* the text's last row is its last non-empty one */

    if (np > 0) {
        /* the smallest scroll k under which the rows above PREV's last one are still there
         * (its last row may have grown: a prompt, a line being typed); k = last always fits */
        for (k = 0; k < last; k++) {
            for (i = 0; i + k < last; i++)
                if (!row_eq(i < nc ? c[i] : "", i < nc ? cl[i] : 0, p[i + k], pl[i + k]))
                    break;
            if (i + k == last)
                break;
        }
        from = last - k;
        if (from < nc && row_eq(c[from], cl[from], p[last], pl[last]))
            from++;
    }
    for (i = from; i < nc; i++)
        if (cl[i])
            fn(opaque, c[i], cl[i]);
}
