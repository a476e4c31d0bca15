/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cfgscan.c: which keys an xl.cfg file sets, and on which line.
 *
 * libxlutil parses the file (hvmctl uses its values), but its API gives neither the list of keys
 * nor their lines. This scanner follows the same lexical rules (libxlutil's lexer: identifiers
 * [a-z][_0-9a-z]*, '...' and "..." strings with backslash escapes and no newline, '#' comments to
 * the end of the line, statements ended by a newline or ';', lists in [ ] that may span lines,
 * "=" and "+=") and records each top-level KEY = / KEY += with its line. It never rejects input:
 * syntax errors are libxlutil's to report, and a file that libxlutil accepts scans the same way.
 */
#include "toolstack/xl/xl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int add_key(struct ts_cfgscan *s, const char *name, size_t nlen, int line)
{
    struct ts_cfgkey *k;
    size_t i;

    for (i = 0; i < s->n; i++) {
        if (strlen(s->keys[i].name) == nlen && !memcmp(s->keys[i].name, name, nlen)) {
            s->keys[i].line = line;     /* the last assignment is the one that counts */
            return 0;
        }
    }
    k = realloc(s->keys, (s->n + 1) * sizeof(*k));
    if (!k)
        return -ENOMEM;
    s->keys = k;
    k = &s->keys[s->n];
    k->name = strndup(name, nlen);
    if (!k->name)
        return -ENOMEM;
    k->line = line;
    k->used = false;
    s->n++;
    return 0;
}

static bool is_ident_start(char c) { return c >= 'a' && c <= 'z'; }
static bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '_'; }

int ts_cfgscan(const char *p, size_t len, struct ts_cfgscan *out)
{
    const char *end = p + len;
    int line = 1, depth = 0, rc;
    bool stmt_start = true;

    out->keys = NULL;
    out->n = 0;
    while (p < end) {
        char c = *p;

        if (c == '\n') {
            line++;
            p++;
            if (depth == 0)
                stmt_start = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            p++;
            continue;
        }
        if (c == '#') {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        if (c == ';' && depth == 0) {
            stmt_start = true;
            p++;
            continue;
        }
        if (c == '"' || c == '\'') {
            /* a string: up to the closing quote, never past a newline */
            p++;
            while (p < end && *p != c && *p != '\n') {
                if (*p == '\\' && p + 1 < end && p[1] != '\n')
                    p++;
                p++;
            }
            if (p < end && *p == c)
                p++;
            stmt_start = false;
            continue;
        }
        if (c == '[') {
            depth++;
            p++;
            stmt_start = false;
            continue;
        }
        if (c == ']') {
            if (depth > 0)
                depth--;
            p++;
            continue;
        }
        if (is_ident_start(c) && stmt_start && depth == 0) {
            const char *name = p, *q;
            size_t nlen;

            while (p < end && is_ident(*p))
                p++;
            nlen = (size_t)(p - name);
            q = p;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && (*q == '=' || (*q == '+' && q + 1 < end && q[1] == '='))) {
                rc = add_key(out, name, nlen, line);
                if (rc < 0) {
                    ts_cfgscan_free(out);
                    return rc;
                }
                p = q + (*q == '=' ? 1 : 2);
            }
            stmt_start = false;
            continue;
        }
        stmt_start = false;
        p++;
    }
    return 0;
}

struct ts_cfgkey *ts_cfgscan_find(const struct ts_cfgscan *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i].name, name))
            return &s->keys[i];
    return NULL;
}

void ts_cfgscan_free(struct ts_cfgscan *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->keys[i].name);
    free(s->keys);
    s->keys = NULL;
    s->n = 0;
}
