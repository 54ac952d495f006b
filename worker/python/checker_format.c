/* checker_format.c - format strings (pyflakes' F50x and F52x).
 *
 * `'...' % rhs` and `'...'.format(...)` with a literal format: this file
 * reads the literal and the shape of the arguments off the tree; formats.c
 * parses the placeholders and reports. Needs nothing of the walk but the
 * nodes. */
#include "worker/python/checker_int.h"
#include "worker/python/formats.h"

#include <string.h>

/* ---- format strings (F50x, F52x) ------------------------------------------------ */

#define MAX_FORMAT_LITERAL (64u << 10)

/* The text of a str literal (or implicit concatenation of them) with each
 * escape sequence stood in for by one ordinary character: enough to find
 * placeholders. False for f-strings, bytes, and very long literals. */
static bool literal_text(checker_t *c, TSNode n, char **out, size_t *len)
{
    uint32_t tl;
    size_t k = 0;
    char *buf;

    n = chk_unparen(c, n);
    if (kind(c, n) != K_STRING && kind(c, n) != K_CONCAT_STRING)
        return false;
    text(c, n, &tl);
    if (tl > MAX_FORMAT_LITERAL || (buf = arena_alloc(c->a, tl + 1)) == NULL)
        return false;
    uint32_t parts = kind(c, n) == K_STRING ? 1 : ts_node_named_child_count(n);
    for (uint32_t i = 0; i < parts; i++) {
        TSNode part = kind(c, n) == K_STRING ? n : ts_node_named_child(n, i);
        strinfo_t si;
        if (kind(c, part) != K_STRING)
            continue;
        chk_string_info(c, part, &si);
        if (si.is_f || si.is_bytes)
            return false;
        FOR_KIDS(c, part, cu)
        {
            TSNode ch = KID(cu);
            uint32_t s0, s1, at;
            if (kind(c, ch) != K_STRING_CONTENT)
                continue;
            s0 = ts_node_start_byte(ch);
            s1 = ts_node_end_byte(ch);
            at = s0;
            for (uint32_t e = 0; e < ts_node_named_child_count(ch); e++) {
                TSNode esc = ts_node_named_child(ch, e);
                uint32_t e0 = ts_node_start_byte(esc), e1 = ts_node_end_byte(esc);
                memcpy(buf + k, c->src + at, e0 - at);
                k += e0 - at;
                buf[k++] = 'E';
                at = e1;
            }
            memcpy(buf + k, c->src + at, s1 - at);
            k += s1 - at;
        }
    }
    buf[k] = '\0';
    *out = buf;
    *len = k;
    return true;
}

/* `'...' % rhs` (pyflakes' _handle_percent_format). */
void chk_percent_format(checker_t *c, TSNode n, TSNode left, TSNode right)
{
    fmt_rhs_t rhs;
    char *fmt;
    size_t len;
    uint32_t line, col;

    if (!literal_text(c, left, &fmt, &len))
        return;
    memset(&rhs, 0, sizeof rhs);
    right = chk_unparen(c, right);
    if (kind(c, right) == K_TUPLE || kind(c, right) == K_LIST) {
        rhs.kind = FMT_RHS_SEQUENCE;
        FOR_KIDS(c, right, cu)
        {
            TSNode e = KID(cu);
            lang_kind_t k = kind(c, e);
            if (!ts_node_is_named(e) || ts_node_is_extra(e))
                continue;
            if (k == K_LIST_SPLAT || k == K_PAREN_LIST_SPLAT)
                rhs.kind = FMT_RHS_OTHER;
            rhs.count++;
        }
    } else if (kind(c, right) == K_DICTIONARY) {
        rhs.kind = FMT_RHS_MAPPING;
        rhs.keys_known = true;
        FOR_KIDS(c, right, cu)
        {
            TSNode p = KID(cu);
            char *key;
            size_t kl;
            if (!ts_node_is_named(p) || ts_node_is_extra(p))
                continue;
            if (kind(c, p) != K_PAIR || !chk_is_plain_str(c, chk_unparen(c, first_child(p))) ||
                !literal_text(c, first_child(p), &key, &kl) || rhs.n_keys == FMT_MAX_KEYS) {
                rhs.keys_known = false;
                continue;
            }
            rhs.keys[rhs.n_keys] = key;
            rhs.key_lens[rhs.n_keys++] = (uint32_t)kl;
        }
    }
    node_pos(c, n, &line, &col);
    formats_percent(fmt, len, &rhs, line, col + 1, c->diags);
}

/* `'...'.format(...)` (pyflakes' _handle_string_dot_format). */
void chk_dot_format(checker_t *c, TSNode call, TSNode func, TSNode args)
{
    fmt_call_t fc;
    char *fmt;
    size_t len;
    uint32_t line, col, al;
    const char *attr = text(c, last_child(func), &al);

    if (al != 6 || memcmp(attr, "format", 6) != 0 || kind(c, args) != K_ARGUMENT_LIST ||
        !literal_text(c, first_child(func), &fmt, &len))
        return;
    memset(&fc, 0, sizeof fc);
    fc.keywords_fit = true;
    FOR_KIDS(c, args, cu)
    {
        TSNode a = KID(cu);
        lang_kind_t k = kind(c, a);
        if (!ts_node_is_named(a) || ts_node_is_extra(a))
            continue;
        if (k == K_KEYWORD_ARGUMENT) {
            if (fc.n_keywords == FMT_MAX_KEYS) {
                fc.keywords_fit = false;
                continue;
            }
            fc.keywords[fc.n_keywords] = text(c, first_child(a), &fc.keyword_lens[fc.n_keywords]);
            fc.n_keywords++;
        } else if (k == K_DICT_SPLAT) {
            fc.dstar = true;
        } else {
            if (k == K_LIST_SPLAT)
                fc.star = true;
            fc.positional++;
        }
    }
    node_pos(c, call, &line, &col);
    formats_dot_format(fmt, len, &fc, line, col + 1, c->diags);
}
