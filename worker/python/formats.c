/* formats.c - format strings against their arguments (see formats.h).
 *
 * The parsers follow CPython: printf-style conversions as `%` reads them
 * (mapping key, flags, width, precision, length, conversion), and
 * str.format's markup as Objects/stringlib/unicode_format.h splits it
 * (doubled braces, nested fields in a spec, `!r` conversions). The
 * comparison with the arguments is pyflakes' own, message for message. */
#include "formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMT_MAX_FIELDS 256

typedef struct {
    const char *s;
    size_t len;
} str_t;

/* A set of strings (names or decimal numbers) kept sorted on output. */
typedef struct {
    str_t items[FMT_MAX_FIELDS];
    char nums[FMT_MAX_FIELDS][12];
    uint32_t n;
} strset_t;

static bool set_has(const strset_t *set, const char *s, size_t len)
{
    for (uint32_t i = 0; i < set->n; i++)
        if (set->items[i].len == len && memcmp(set->items[i].s, s, len) == 0)
            return true;
    return false;
}

static void set_add(strset_t *set, const char *s, size_t len)
{
    if (set->n < FMT_MAX_FIELDS && !set_has(set, s, len))
        set->items[set->n++] = (str_t){s, len};
}

static void set_add_num(strset_t *set, long v)
{
    char buf[12];
    int w = snprintf(buf, sizeof buf, "%ld", v);
    if (w <= 0 || (size_t)w >= sizeof buf || set->n >= FMT_MAX_FIELDS ||
        set_has(set, buf, (size_t)w))
        return;
    memcpy(set->nums[set->n], buf, (size_t)w + 1);
    set->items[set->n] = (str_t){set->nums[set->n], (size_t)w};
    set->n++;
}

static int str_cmp(const void *a, const void *b)
{
    const str_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The items of set sorted and joined by ", " into buf. */
static const char *joined(strset_t *set, char *buf, size_t cap)
{
    size_t len = 0;

    qsort(set->items, set->n, sizeof set->items[0], str_cmp);
    buf[0] = '\0';
    for (uint32_t i = 0; i < set->n; i++) {
        int w = snprintf(buf + len, cap - len, "%s%.*s", i ? ", " : "", (int)set->items[i].len,
                         set->items[i].s);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

static void report(diag_list_t *d, uint32_t line, uint32_t col, const char *code, const char *msg)
{
    if (diag_add(d, line, col, code, "%s", msg) == NULL)
        d->oom = true;
}

/* ---- printf-style ------------------------------------------------------- */

typedef struct {
    str_t key;
    bool has_key;
    bool width_star, prec_star;
    char conversion;
} pct_t;

/* One placeholder after a '%' at s[*i]; false at the end of the string
 * (pyflakes: "incomplete format"). */
static bool parse_percent_one(const char *s, size_t n, size_t *i, pct_t *p)
{
    size_t k = *i;

    memset(p, 0, sizeof *p);
    if (k < n && s[k] == '(') {
        size_t j = k + 1;
        while (j < n && s[j] != ')' && s[j] != '(')
            j++;
        if (j < n && s[j] == ')') {
            p->key = (str_t){s + k + 1, j - k - 1};
            p->has_key = true;
            k = j + 1;
        }
    }
    while (k < n && strchr("#0+ -", s[k]) != NULL && s[k] != '\0')
        k++;
    if (k < n && s[k] == '*') {
        p->width_star = true;
        k++;
    } else {
        while (k < n && s[k] >= '0' && s[k] <= '9')
            k++;
    }
    if (k < n && s[k] == '.') {
        k++;
        if (k < n && s[k] == '*') {
            p->prec_star = true;
            k++;
        } else {
            while (k < n && s[k] >= '0' && s[k] <= '9')
                k++;
        }
    }
    if (k < n && (s[k] == 'h' || s[k] == 'l' || s[k] == 'L'))
        k++;
    if (k >= n)
        return false;
    p->conversion = s[k];
    *i = k + 1;
    return true;
}

typedef struct {
    int positional; /* -1: not known yet (pyflakes' None), 0, 1 */
    uint32_t count;
    strset_t named;
} pct_state_t;

/* One placeholder into st; false when pyflakes stops at F506. */
static bool percent_placeholder(const pct_t *p, pct_state_t *st, uint32_t line, uint32_t col,
                                diag_list_t *d)
{
    char msg[96];

    if (p->conversion == '%')
        return true;
    if (p->conversion == '\0' || strchr("diouxXeEfFgGcrsa%", p->conversion) == NULL) {
        snprintf(msg, sizeof msg, "'...' %% ... has unsupported format character '%c'",
                 p->conversion);
        report(d, line, col, "F509", msg);
    }
    if (st->positional < 0)
        st->positional = !p->has_key;
    for (int part = 0; part < 2; part++) {
        if (!(part == 0 ? p->width_star : p->prec_star))
            continue;
        if (st->positional != 1)
            report(d, line, col, "F508", "'...' % ... `*` specifier requires sequence");
        else
            st->count++;
    }
    if ((st->positional == 1) == p->has_key) {
        report(d, line, col, "F506", "'...' % ... has mixed positional and named placeholders");
        return false;
    }
    if (st->positional == 1)
        st->count++;
    else
        set_add(&st->named, p->key.s, p->key.len);
    return true;
}

static void percent_mapping(const pct_state_t *st, const fmt_rhs_t *rhs, uint32_t line,
                            uint32_t col, diag_list_t *d)
{
    strset_t extra = {.n = 0}, missing = {.n = 0}, keys = {.n = 0};
    char list[512], msg[640];

    if (st->positional == 1 && st->count > 1) {
        report(d, line, col, "F503", "'...' % ... expected sequence but got mapping");
        return;
    }
    for (uint32_t i = 0; i < rhs->n_keys; i++)
        set_add(&keys, rhs->keys[i], rhs->key_lens[i]);
    for (uint32_t i = 0; i < keys.n; i++)
        if (!set_has(&st->named, keys.items[i].s, keys.items[i].len))
            set_add(&extra, keys.items[i].s, keys.items[i].len);
    for (uint32_t i = 0; i < st->named.n; i++)
        if (!set_has(&keys, st->named.items[i].s, st->named.items[i].len))
            set_add(&missing, st->named.items[i].s, st->named.items[i].len);
    if (st->positional != 1 && extra.n > 0) {
        snprintf(msg, sizeof msg, "'...' %% ... has unused named argument(s): %s",
                 joined(&extra, list, sizeof list));
        report(d, line, col, "F504", msg);
    }
    if (st->positional != 1 && missing.n > 0) {
        snprintf(msg, sizeof msg, "'...' %% ... is missing argument(s) for placeholder(s): %s",
                 joined(&missing, list, sizeof list));
        report(d, line, col, "F505", msg);
    }
}

void formats_percent(const char *s, size_t n, const fmt_rhs_t *rhs, uint32_t line, uint32_t col,
                     diag_list_t *d)
{
    pct_state_t local;
    size_t i = 0;
    char msg[96];

    local.positional = -1;
    local.count = 0;
    local.named.n = 0;
    for (;;) {
        const char *pc = memchr(s + i, '%', n - i);
        pct_t p;
        if (pc == NULL)
            break;
        i = (size_t)(pc - s) + 1;
        if (!parse_percent_one(s, n, &i, &p)) {
            report(d, line, col, "F501",
                   "'...' % ... has invalid format string: incomplete format");
            return;
        }
        if (!percent_placeholder(&p, &local, line, col, d))
            return;
    }
    if (rhs->kind == FMT_RHS_SEQUENCE) {
        if (local.positional == 1 && local.count != rhs->count) {
            snprintf(msg, sizeof msg, "'...' %% ... has %u placeholder(s) but %u substitution(s)",
                     local.count, rhs->count);
            report(d, line, col, "F507", msg);
        } else if (local.positional != 1) {
            report(d, line, col, "F502", "'...' % ... expected mapping but got sequence");
        }
    } else if (rhs->kind == FMT_RHS_MAPPING && rhs->keys_known) {
        percent_mapping(&local, rhs, line, col, d);
    }
}

/* ---- str.format ------------------------------------------------------------ */

typedef struct {
    bool is_field; /* false: a literal run */
    str_t name;    /* the field name, "" for `{}` */
    str_t spec;    /* format spec ("" when none) */
} field_t;

/* Splits the markup as string.Formatter().parse does. On a malformed
 * string returns false with CPython's message in *why. */
static bool parse_fields(const char *s, size_t n, field_t *out, size_t cap, size_t *count,
                         const char **why)
{
    size_t i = 0, k = 0;

    *count = 0;
    while (i < n) {
        if (s[i] == '}') {
            if (i + 1 < n && s[i + 1] == '}') {
                i += 2;
                continue;
            }
            *why = "Single '}' encountered in format string";
            return false;
        }
        if (s[i] != '{') {
            i++;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '{') {
            i += 2;
            continue;
        }
        if (i + 1 == n) {
            *why = "Single '{' encountered in format string";
            return false;
        }
        size_t start = i + 1, j = start;
        int depth = 1;
        bool in_spec = false;
        for (; j < n; j++) {
            if (!in_spec && s[j] == '[') { /* `{a[}]}`: braces in an index are text */
                while (j + 1 < n && s[j + 1] != ']')
                    j++;
                continue;
            }
            if (s[j] == ':' || s[j] == '!')
                in_spec = true;
            if (s[j] == '{')
                depth++;
            else if (s[j] == '}' && --depth == 0)
                break;
        }
        if (j >= n) {
            *why = "expected '}' before end of string";
            return false;
        }
        field_t f = {true, {s + start, 0}, {s + j, 0}};
        size_t e = start;
        char c = 0;
        while (e < j) {
            c = s[e++];
            if (c == '{') {
                *why = "unexpected '{' in field name";
                return false;
            }
            if (c == '[') {
                while (e < j && s[e] != ']')
                    e++;
                c = 0;
                continue;
            }
            if (c == ':' || c == '!')
                break;
            c = 0;
        }
        f.name.len = (c == ':' || c == '!') ? e - 1 - start : e - start;
        if (c == '!') {
            if (e >= j) {
                *why = "end of string while looking for conversion specifier";
                return false;
            }
            e++; /* the conversion character */
            if (e < j && s[e++] != ':') {
                *why = "expected ':' after conversion specifier";
                return false;
            }
        }
        if (c == ':' || (c == '!' && e <= j))
            f.spec = (str_t){s + e, j - e};
        if (k < cap)
            out[k++] = f;
        i = j + 1;
    }
    *count = k;
    return true;
}

/* Python's int() on a field name: digits, one underscore between them,
 * an optional sign, surrounding whitespace. */
static bool field_int(str_t f, long *v)
{
    size_t i = 0, end = f.len;
    bool neg = false, digits = false;
    long r = 0;

    while (i < end && (f.s[i] == ' ' || f.s[i] == '\t'))
        i++;
    while (end > i && (f.s[end - 1] == ' ' || f.s[end - 1] == '\t'))
        end--;
    if (i < end && (f.s[i] == '+' || f.s[i] == '-'))
        neg = f.s[i++] == '-';
    for (; i < end; i++) {
        if (f.s[i] == '_' && digits && i + 1 < end && f.s[i + 1] != '_')
            continue;
        if (f.s[i] < '0' || f.s[i] > '9' || r > 100000000)
            return false;
        r = r * 10 + (f.s[i] - '0');
        digits = true;
    }
    if (!digits)
        return false;
    *v = neg ? -r : r;
    return true;
}

typedef struct {
    int auto_numbering; /* -1 unknown, 0 manual, 1 automatic */
    long next_auto;
    strset_t positional, named;
} dot_state_t;

/* pyflakes' _add_key; false when it reports F525 and stops. */
static bool add_key(dot_state_t *st, str_t key, uint32_t line, uint32_t col, diag_list_t *d)
{
    long v;
    size_t cut = key.len;

    for (size_t i = 0; i < key.len; i++)
        if (key.s[i] == '.' || key.s[i] == '[') {
            cut = i;
            break;
        }
    key.len = cut;
    if (field_int(key, &v)) {
        if (st->auto_numbering == 1)
            goto mixing;
        st->auto_numbering = 0;
        set_add_num(&st->positional, v);
        return true;
    }
    if (key.len == 0) {
        if (st->auto_numbering == 0)
            goto mixing;
        st->auto_numbering = 1;
        set_add_num(&st->positional, st->next_auto++);
        return true;
    }
    set_add(&st->named, key.s, key.len);
    return true;
mixing:
    report(d, line, col, "F525", "'...'.format(...) mixes automatic and manual numbering");
    return false;
}

static void invalid_format(const char *why, uint32_t line, uint32_t col, diag_list_t *d)
{
    char msg[160];
    snprintf(msg, sizeof msg, "'...'.format(...) has invalid format string: %s", why);
    report(d, line, col, "F521", msg);
}

/* The keys of every field and of the fields nested in its spec; false when
 * a report ended the check. */
static bool collect_keys(const field_t *f, size_t n, dot_state_t *st, uint32_t line, uint32_t col,
                         diag_list_t *d)
{
    field_t inner[FMT_MAX_FIELDS];
    size_t m;
    const char *why;

    for (size_t i = 0; i < n; i++) {
        if (!add_key(st, f[i].name, line, col, d))
            return false;
        if (f[i].spec.len == 0)
            continue;
        if (!parse_fields(f[i].spec.s, f[i].spec.len, inner, FMT_MAX_FIELDS, &m, &why)) {
            invalid_format(why, line, col, d);
            return false;
        }
        for (size_t k = 0; k < m; k++) {
            if (memchr(inner[k].spec.s, '{', inner[k].spec.len) != NULL) {
                invalid_format("Max string recursion exceeded", line, col, d);
                return false;
            }
            if (!add_key(st, inner[k].name, line, col, d))
                return false;
        }
    }
    return true;
}

static void compare_arguments(dot_state_t *st, const fmt_call_t *call, uint32_t line, uint32_t col,
                              diag_list_t *d)
{
    strset_t extra_pos = {.n = 0}, extra_named = {.n = 0}, missing = {.n = 0}, given = {.n = 0};
    char list[512], msg[640];

    for (uint32_t i = 0; i < call->positional && i < FMT_MAX_FIELDS; i++)
        set_add_num(&given, i);
    for (uint32_t i = 0; i < call->n_keywords; i++)
        set_add(&given, call->keywords[i], call->keyword_lens[i]);
    for (uint32_t i = 0; i < call->positional && i < FMT_MAX_FIELDS; i++) {
        char num[12];
        int w = snprintf(num, sizeof num, "%u", i);
        if (!set_has(&st->positional, num, (size_t)w))
            set_add_num(&extra_pos, i);
    }
    for (uint32_t i = 0; i < call->n_keywords; i++)
        if (!set_has(&st->named, call->keywords[i], call->keyword_lens[i]))
            set_add(&extra_named, call->keywords[i], call->keyword_lens[i]);
    for (int which = 0; which < 2; which++) {
        const strset_t *ph = which == 0 ? &st->positional : &st->named;
        for (uint32_t i = 0; i < ph->n; i++)
            if (!set_has(&given, ph->items[i].s, ph->items[i].len))
                set_add(&missing, ph->items[i].s, ph->items[i].len);
    }
    if (extra_pos.n > 0) {
        snprintf(msg, sizeof msg, "'...'.format(...) has unused arguments at position(s): %s",
                 joined(&extra_pos, list, sizeof list));
        report(d, line, col, "F523", msg);
    }
    if (extra_named.n > 0) {
        snprintf(msg, sizeof msg, "'...'.format(...) has unused named argument(s): %s",
                 joined(&extra_named, list, sizeof list));
        report(d, line, col, "F522", msg);
    }
    if (missing.n > 0) {
        snprintf(msg, sizeof msg, "'...'.format(...) is missing argument(s) for placeholder(s): %s",
                 joined(&missing, list, sizeof list));
        report(d, line, col, "F524", msg);
    }
}

void formats_dot_format(const char *s, size_t n, const fmt_call_t *call, uint32_t line,
                        uint32_t col, diag_list_t *d)
{
    field_t fields[FMT_MAX_FIELDS];
    dot_state_t st;
    size_t count;
    const char *why;

    st.auto_numbering = -1;
    st.next_auto = 0;
    st.positional.n = st.named.n = 0;
    if (!parse_fields(s, n, fields, FMT_MAX_FIELDS, &count, &why)) {
        invalid_format(why, line, col, d);
        return;
    }
    if (!collect_keys(fields, count, &st, line, col, d))
        return;
    if (call->star || call->dstar || !call->keywords_fit)
        return;
    compare_arguments(&st, call, line, col, d);
}
