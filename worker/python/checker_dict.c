/* checker_dict.c - repeated dictionary keys (pyflakes' F601, F602).
 *
 * A dict display whose key appears twice with different values loses one of
 * them. Keys and values are compared as pyflakes compares them: constants by
 * value, names by name, tuples item by item; each is written out as a short
 * string, so that sorting groups equal keys. Needs nothing of the walk but
 * the node. */
#include "worker/python/checker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- repeated dictionary keys (F601, F602) ---------------------------------- */

/* An integer literal (underscores removed) as a key: "n" and its value as
 * a float prints it when the float holds it exactly (so that 1, 1.0 and
 * True are the same key, as in Python), else "N" and its exact value in
 * hex, so that two large integers are equal only when they are. -1 when it
 * is not a literal Python reads (then it equals nothing). */
static int int_value(const char *num, char *out, size_t cap)
{
    uint32_t limbs[8] = {0}; /* little-endian base 2^32: 64 digits fit */
    unsigned base = 10, n_limbs = 8;
    const char *p = num;
    uint64_t small = 0;
    bool fits = true;
    int w;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    if (*p == '\0')
        return -1;
    for (; *p != '\0'; p++) {
        unsigned d;
        uint64_t carry;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            return -1;
        if (d >= base)
            return -1;
        carry = d;
        for (unsigned i = 0; i < n_limbs; i++) {
            uint64_t v = (uint64_t)limbs[i] * base + carry;
            limbs[i] = (uint32_t)v;
            carry = v >> 32;
        }
        if (carry != 0)
            return -1; /* beyond 256 bits: cannot be a 63-character literal */
    }
    for (unsigned i = 2; i < n_limbs; i++)
        fits = fits && limbs[i] == 0;
    small = (uint64_t)limbs[1] << 32 | limbs[0];
    if (fits && small <= (1ull << 53))
        return snprintf(out, cap, "n%.17g", (double)small);
    w = snprintf(out, cap, "N");
    for (unsigned i = n_limbs; i-- > 0;)
        if (w >= 0 && (size_t)w < cap)
            w += snprintf(out + w, cap - (size_t)w, "%08x", limbs[i]);
    return w;
}

/* A dictionary key or value as pyflakes compares them (convert_to_value):
 * constants by value, names by name, tuples by their items; NULL for
 * anything else, which never equals anything. Written into buf. */
static bool const_value(checker_t *c, TSNode n, char *buf, size_t cap, size_t *len, bool *is_var)
{
    uint32_t tl;
    const char *t;
    int w = -1;

    n = chk_unparen(c, n);
    switch (kind(c, n)) {
    case K_STRING: {
        strinfo_t si;
        uint32_t cl = 0;
        const char *cs = "";
        chk_string_info(c, n, &si);
        if (si.is_f || si.has_escape || si.n_content > 1)
            return false;
        if (si.n_content == 1)
            cs = text(c, si.content, &cl);
        w = snprintf(buf + *len, cap - *len, "%c'%.*s'", si.is_bytes ? 'b' : 's', (int)cl, cs);
        break;
    }
    case K_INTEGER:
    case K_FLOAT: {
        char num[64];
        t = text(c, n, &tl);
        if (tl >= sizeof num || memchr(t, 'j', tl) || memchr(t, 'J', tl))
            return false;
        size_t k = 0;
        for (uint32_t i = 0; i < tl; i++)
            if (t[i] != '_')
                num[k++] = t[i];
        num[k] = '\0';
        if (kind(c, n) == K_INTEGER) {
            w = int_value(num, buf + *len, cap - *len);
            break;
        }
        char *end;
        double v = strtod(num, &end);
        if (*end != '\0')
            return false;
        w = snprintf(buf + *len, cap - *len, "n%.17g", v);
        break;
    }
    case K_TRUE:
    case K_FALSE:
        w = snprintf(buf + *len, cap - *len, "n%d", kind(c, n) == K_TRUE);
        break;
    case K_NONE:
        w = snprintf(buf + *len, cap - *len, "None");
        break;
    case K_IDENTIFIER:
        t = text(c, n, &tl);
        w = snprintf(buf + *len, cap - *len, "v%.*s", (int)tl, t);
        *is_var = true;
        break;
    case K_TUPLE: {
        bool v = false;
        w = snprintf(buf + *len, cap - *len, "(");
        if (w < 0 || (size_t)w >= cap - *len)
            return false;
        *len += (size_t)w;
        FOR_KIDS(c, n, cu)
        {
            if (w < 0 || !ts_node_is_named(KID(cu)) || ts_node_is_extra(KID(cu)))
                continue;
            if (!const_value(c, KID(cu), buf, cap, len, &v))
                w = -1;
            else if (*len + 1 < cap)
                buf[(*len)++] = ',';
        }
        if (w < 0)
            return false;
        w = snprintf(buf + *len, cap - *len, ")");
        break;
    }
    default:
        return false;
    }
    if (w < 0 || (size_t)w >= cap - *len)
        return false;
    *len += (size_t)w;
    return true;
}

typedef struct {
    const char *key;   /* NULL: a key pyflakes does not compare */
    const char *value; /* NULL: a value equal to no other */
    TSNode node;
    bool is_var;
} dict_entry_t;

static int entry_cmp(const void *pa, const void *pb)
{
    const dict_entry_t *a = pa, *b = pb;
    int r = strcmp(a->key, b->key);
    if (r != 0)
        return r;
    return ts_node_start_byte(a->node) < ts_node_start_byte(b->node) ? -1 : 1;
}

static const char *value_string(checker_t *c, TSNode n, bool *is_var)
{
    char buf[512];
    size_t len = 0;

    *is_var = false;
    if (ts_node_is_null(n) || !const_value(c, n, buf, sizeof buf, &len, is_var))
        return NULL;
    return arena_strndup(c->a, buf, len);
}

/* Reports every occurrence of a key whose values are not all the same. */
static void report_key_group(checker_t *c, const dict_entry_t *g, size_t n)
{
    bool differ = false;

    for (size_t i = 0; i < n && !differ; i++) {
        size_t same = 0;
        for (size_t j = 0; j < n; j++)
            if (g[i].value != NULL && g[j].value != NULL && strcmp(g[i].value, g[j].value) == 0)
                same++;
        differ = same <= 1;
    }
    if (!differ)
        return;
    for (size_t i = 0; i < n; i++) {
        uint32_t tl;
        const char *t = text(c, chk_unparen(c, g[i].node), &tl);
        if (g[i].is_var)
            REPORT(c, g[i].node, "F602",
                   "dictionary key variable %.*s repeated with different values",
                   (int)(tl > 100 ? 100 : tl), t);
        else
            REPORT(c, g[i].node, "F601", "dictionary key %.*s repeated with different values",
                   (int)(tl > 100 ? 100 : tl), t);
    }
}

void chk_dict_keys(checker_t *c, TSNode n)
{
    uint32_t pairs = ts_node_named_child_count(n), k = 0;
    dict_entry_t *e;

    if (pairs < 2 || (e = arena_alloc(c->a, (size_t)pairs * sizeof *e)) == NULL)
        return;
    FOR_KIDS(c, n, cu)
    {
        TSNode p = KID(cu);
        bool v;
        if (kind(c, p) != K_PAIR || k >= pairs)
            continue;
        e[k].node = first_child(p);
        e[k].key = value_string(c, e[k].node, &e[k].is_var);
        e[k].value = value_string(c, last_child(p), &v);
        if (e[k].key != NULL)
            k++;
    }
    qsort(e, k, sizeof *e, entry_cmp);
    for (size_t i = 0, j; i < k; i = j) {
        for (j = i + 1; j < k && strcmp(e[i].key, e[j].key) == 0;)
            j++;
        if (j - i > 1)
            report_key_group(c, e + i, j - i);
    }
}
