/* toml.c - the TOML grammar's tree turned into values, with TOML's rules.
 *
 * The grammar accepts every well-formed line on its own; what makes a
 * document valid across lines (which tables exist, who defined them) is
 * decided here, while the values are built in document order, so the
 * first broken rule is the one reported, at its own line and column. A
 * table remembers how it came to be (flags_): written as a [header],
 * made on the way to a deeper header, made by a dotted key, or written
 * inline; an array remembers whether [[headers]] made it. Those four facts
 * are all TOML's redefinition rules look at. Everything lives in one arena
 * that the document owns. */
#include "cli/toml.h"

#include "common/alloc.h"
#include "common/arena.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

const TSLanguage *tree_sitter_toml(void);

/* Bigger documents are refused: positions are uint32_t. */
#define TOML_MAX_BYTES (64u << 20)
#define TOML_MAX_DEPTH 64

enum {
    TF_HEADER = 1,   /* table: defined by [header] */
    TF_IMPLICIT = 2, /* table: made on the way to a deeper header */
    TF_DOTTED = 4,   /* table: made by a dotted key */
    TF_INLINE = 8,   /* table or array: a value, closed once written */
    TF_AOT = 16      /* array: made by [[header]] */
};

struct toml_doc {
    arena_t *arena;
    toml_value_t *root;
};

typedef struct {
    arena_t *a;
    const char *path;
    const char *text;
    st_err_t *err;
    unsigned depth;
} ctx_t;

static st_rc_t fail_at(ctx_t *c, TSPoint p, const char *fmt, const char *arg)
{
    char msg[ST_ERR_MSG_MAX];

    snprintf(msg, sizeof msg, fmt, arg);
    return st_fail(c->err, ST_EINVAL, "%s:%u:%u: %s", c->path, p.row + 1, p.column + 1, msg);
}

static st_rc_t no_memory(ctx_t *c)
{
    return st_fail(c->err, ST_ENOMEM, "%s: out of memory reading it", c->path);
}

static toml_value_t *new_value(ctx_t *c, toml_kind_t kind, TSPoint p)
{
    toml_value_t *v = arena_calloc(c->a, 1, sizeof *v);

    if (v != NULL) {
        v->kind = kind;
        v->line = p.row + 1;
        v->col = p.column + 1;
    }
    return v;
}

/* Makes room for one more entry or item (sz bytes each) in *slots. */
static bool grow(ctx_t *c, void **slots, size_t n, size_t *cap, size_t sz)
{
    size_t old_bytes, new_bytes, cap2 = *cap == 0 ? 4 : *cap * 2;
    void *grown;

    if (n < *cap)
        return true;
    if (!st_mul_size(*cap, sz, &old_bytes) || !st_mul_size(cap2, sz, &new_bytes))
        return false;
    if ((grown = arena_realloc(c->a, *slots, old_bytes, new_bytes)) == NULL)
        return false;
    *slots = grown;
    *cap = cap2;
    return true;
}

static st_rc_t table_put(ctx_t *c, toml_value_t *t, const char *key, toml_value_t *v, TSPoint p)
{
    if (!grow(c, (void **)&t->entries, t->n, &t->cap_, sizeof *t->entries))
        return no_memory(c);
    t->entries[t->n++] =
        (toml_entry_t){.key = key, .value = v, .line = p.row + 1, .col = p.column + 1};
    return ST_OK;
}

static st_rc_t array_push(ctx_t *c, toml_value_t *arr, toml_value_t *v)
{
    if (!grow(c, (void **)&arr->items, arr->n, &arr->cap_, sizeof *arr->items))
        return no_memory(c);
    arr->items[arr->n++] = v;
    return ST_OK;
}

const toml_entry_t *toml_entry(const toml_value_t *table, const char *key)
{
    if (table == NULL || table->kind != TOML_TABLE)
        return NULL;
    for (size_t i = 0; i < table->n; i++)
        if (strcmp(table->entries[i].key, key) == 0)
            return &table->entries[i];
    return NULL;
}

const toml_value_t *toml_get(const toml_value_t *table, const char *key)
{
    const toml_entry_t *e = toml_entry(table, key);
    return e != NULL ? e->value : NULL;
}

const char *toml_kind_name(toml_kind_t kind)
{
    static const char *const names[] = {"a table", "an array",  "a string",      "an integer",
                                        "a float", "a boolean", "a date or time"};
    return names[kind];
}

/* ---- strings ------------------------------------------------------------- */

static size_t put_utf8(char *out, uint32_t cp)
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
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the escape at s (after the backslash, n bytes left) into out;
 * sets *used to the bytes of s read. False when it is not one of TOML's. */
static bool escape(const char *s, size_t n, char *out, size_t *out_n, size_t *used)
{
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = n > 0 && s[0] != '\0' ? strchr(from, s[0]) : NULL;
    size_t digits = n > 0 && s[0] == 'u' ? 4 : n > 0 && s[0] == 'U' ? 8 : 0;
    uint32_t cp = 0;

    if (hit != NULL) {
        out[0] = to[hit - from];
        *out_n = 1;
        *used = 1;
        return true;
    }
    if (digits == 0 || n < digits + 1)
        return false;
    for (size_t i = 1; i <= digits; i++) {
        char h = s[i];
        unsigned d = h >= '0' && h <= '9'   ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10)
                                            : 16;
        if (d == 16)
            return false;
        cp = cp * 16 + d;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    *out_n = put_utf8(out, cp);
    *used = digits + 1;
    return true;
}

/* Skips a line-ending backslash's blanks and newlines from s[i]; returns
 * the new index, or i when s[i..] is not such an ending. */
static size_t line_ending_backslash(const char *s, size_t n, size_t i)
{
    size_t j = i;
    bool newline = false;

    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) {
        newline |= s[j] == '\n';
        j++;
    }
    return newline ? j : i;
}

/* The decoded text of a string or quoted key node: literal strings as
 * written, basic ones with escapes resolved; a multi-line string loses the
 * newline right after its opening quotes. */
static st_rc_t decode_string(ctx_t *c, TSNode node, const char **out, size_t *out_len)
{
    const char *raw = c->text + ts_node_start_byte(node);
    size_t n = ts_node_end_byte(node) - ts_node_start_byte(node);
    bool literal = raw[0] == '\'';
    size_t q = n >= 6 && (memcmp(raw, "\"\"\"", 3) == 0 || memcmp(raw, "'''", 3) == 0) ? 3 : 1;
    const char *s = raw + q;
    size_t len = n - 2 * q, k = 0;
    char *buf;

    if (q == 3 && len > 0 && s[0] == '\n')
        s++, len--;
    else if (q == 3 && len > 1 && s[0] == '\r' && s[1] == '\n')
        s += 2, len -= 2;
    if ((buf = arena_alloc(c->a, len + 1)) == NULL)
        return no_memory(c);
    for (size_t i = 0; i < len;) {
        size_t used, wrote, skip;

        if (literal || s[i] != '\\') {
            buf[k++] = s[i++];
            continue;
        }
        if (q == 3 && (skip = line_ending_backslash(s, len, i + 1)) != i + 1) {
            i = skip;
            continue;
        }
        if (!escape(s + i + 1, len - i - 1, buf + k, &wrote, &used)) {
            TSPoint p = ts_node_start_point(node);
            p.column += (uint32_t)(s + i - raw); /* strings with newlines: approximate */
            return fail_at(c, p, "invalid escape sequence in a string%s", "");
        }
        k += wrote;
        i += used + 1;
    }
    buf[k] = '\0';
    *out = buf;
    *out_len = k;
    return ST_OK;
}

/* ---- keys ---------------------------------------------------------------- */

typedef struct {
    const char *parts[TOML_MAX_DEPTH];
    TSPoint at[TOML_MAX_DEPTH];
    size_t n;
} key_path_t;

/* Appends the parts of a bare_key, quoted_key or dotted_key node. */
static st_rc_t read_key(ctx_t *c, TSNode node, key_path_t *k)
{
    const char *type = ts_node_type(node);
    size_t len;
    const char *s;

    if (strcmp(type, "dotted_key") == 0) {
        for (uint32_t i = 0; i < ts_node_named_child_count(node); i++) {
            TSNode ch = ts_node_named_child(node, i);
            st_rc_t rc;

            if (strcmp(ts_node_type(ch), "comment") != 0 && (rc = read_key(c, ch, k)) != ST_OK)
                return rc;
        }
        return ST_OK;
    }
    if (k->n == TOML_MAX_DEPTH)
        return fail_at(c, ts_node_start_point(node), "key nested too deeply%s", "");
    if (strcmp(type, "quoted_key") == 0) {
        st_rc_t rc = decode_string(c, node, &s, &len);
        if (rc != ST_OK)
            return rc;
    } else {
        len = ts_node_end_byte(node) - ts_node_start_byte(node);
        if ((s = arena_strndup(c->a, c->text + ts_node_start_byte(node), len)) == NULL)
            return no_memory(c);
    }
    k->at[k->n] = ts_node_start_point(node);
    k->parts[k->n++] = s;
    return ST_OK;
}

/* ---- values -------------------------------------------------------------- */

static st_rc_t read_value(ctx_t *c, TSNode node, toml_value_t **out);
static st_rc_t put_pair(ctx_t *c, toml_value_t *table, TSNode pair);

/* The text of node without underscores, in buf (cap bytes); false if longer. */
static bool digits_of(ctx_t *c, TSNode node, char *buf, size_t cap)
{
    size_t k = 0;

    for (uint32_t i = ts_node_start_byte(node); i < ts_node_end_byte(node); i++) {
        if (c->text[i] == '_')
            continue;
        if (k + 1 == cap)
            return false;
        buf[k++] = c->text[i];
    }
    buf[k] = '\0';
    return true;
}

static st_rc_t read_integer(ctx_t *c, TSNode node, toml_value_t *v)
{
    char buf[80], *end;
    const char *s = buf;
    int base = 10;
    bool neg = false;
    unsigned long long u;

    if (!digits_of(c, node, buf, sizeof buf))
        return fail_at(c, ts_node_start_point(node), "integer out of range%s", "");
    if (s[0] == '+' || s[0] == '-')
        neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        s += 2;
    }
    errno = 0;
    u = strtoull(s, &end, base);
    if (errno != 0 || *end != '\0' || u > (neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX))
        return fail_at(c, ts_node_start_point(node),
                       "integer out of range (a 64-bit signed integer)%s", "");
    v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return ST_OK;
}

static st_rc_t read_float(ctx_t *c, TSNode node, toml_value_t *v)
{
    char buf[128];
    const char *s;

    if (!digits_of(c, node, buf, sizeof buf))
        return fail_at(c, ts_node_start_point(node), "float too long%s", "");
    s = buf + (buf[0] == '+' || buf[0] == '-');
    if (strcmp(s, "inf") == 0)
        v->f = buf[0] == '-' ? -INFINITY : INFINITY;
    else if (strcmp(s, "nan") == 0)
        v->f = NAN;
    else
        v->f = strtod(buf, NULL);
    return ST_OK;
}

static st_rc_t read_array(ctx_t *c, TSNode node, toml_value_t *v)
{
    v->flags_ = TF_INLINE;
    for (uint32_t i = 0; i < ts_node_named_child_count(node); i++) {
        TSNode ch = ts_node_named_child(node, i);
        toml_value_t *item;
        st_rc_t rc;

        if (strcmp(ts_node_type(ch), "comment") == 0)
            continue;
        if ((rc = read_value(c, ch, &item)) != ST_OK || (rc = array_push(c, v, item)) != ST_OK)
            return rc;
    }
    return ST_OK;
}

static st_rc_t read_inline_table(ctx_t *c, TSNode node, toml_value_t *v)
{
    for (uint32_t i = 0; i < ts_node_named_child_count(node); i++) {
        TSNode ch = ts_node_named_child(node, i);
        st_rc_t rc;

        if (strcmp(ts_node_type(ch), "pair") == 0 && (rc = put_pair(c, v, ch)) != ST_OK)
            return rc;
    }
    v->flags_ = TF_INLINE; /* closed: nothing may add to it from now on */
    return ST_OK;
}

static const struct {
    const char *type;
    toml_kind_t kind;
} value_types[] = {
    {"string", TOML_STRING},
    {"integer", TOML_INTEGER},
    {"float", TOML_FLOAT},
    {"boolean", TOML_BOOL},
    {"array", TOML_ARRAY},
    {"inline_table", TOML_TABLE},
    {"offset_date_time", TOML_DATETIME},
    {"local_date_time", TOML_DATETIME},
    {"local_date", TOML_DATETIME},
    {"local_time", TOML_DATETIME},
};

static st_rc_t read_value(ctx_t *c, TSNode node, toml_value_t **out)
{
    const char *type = ts_node_type(node);
    TSPoint at = ts_node_start_point(node);
    toml_value_t *v = NULL;
    st_rc_t rc = ST_OK;
    size_t i = 0;

    while (i < sizeof value_types / sizeof value_types[0] && strcmp(value_types[i].type, type))
        i++;
    if (i == sizeof value_types / sizeof value_types[0])
        return fail_at(c, at, "expected a value, found %s", type);
    if (++c->depth > TOML_MAX_DEPTH)
        return fail_at(c, at, "values nested too deeply%s", "");
    if ((v = new_value(c, value_types[i].kind, at)) == NULL)
        return no_memory(c);
    if (v->kind == TOML_STRING)
        rc = decode_string(c, node, &v->str, &v->len);
    else if (v->kind == TOML_INTEGER)
        rc = read_integer(c, node, v);
    else if (v->kind == TOML_FLOAT)
        rc = read_float(c, node, v);
    else if (v->kind == TOML_BOOL)
        v->b = c->text[ts_node_start_byte(node)] == 't';
    else if (v->kind == TOML_ARRAY)
        rc = read_array(c, node, v);
    else if (v->kind == TOML_TABLE)
        rc = read_inline_table(c, node, v);
    else if ((v->str = arena_strndup(c->a, c->text + ts_node_start_byte(node),
                                     ts_node_end_byte(node) - ts_node_start_byte(node))) == NULL)
        rc = no_memory(c);
    else
        v->len = strlen(v->str);
    c->depth--;
    *out = v;
    return rc;
}

/* ---- tables -------------------------------------------------------------- */

/* The key path's parts joined by dots, for messages. */
static const char *key_name(ctx_t *c, const key_path_t *k, size_t upto)
{
    char buf[ST_ERR_MSG_MAX];
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i <= upto && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i > 0 ? "." : "", k->parts[i]);
    const char *s = arena_strndup(c->a, buf, strlen(buf));
    return s != NULL ? s : "?";
}

/* Descends from t through k's parts [0, n) as a header or a dotted key
 * (dotted) may, making missing tables; *out is the last one. */
static st_rc_t descend(ctx_t *c, toml_value_t *t, const key_path_t *k, size_t n, bool dotted,
                       toml_value_t **out)
{
    for (size_t i = 0; i < n; i++) {
        toml_value_t *next = (toml_value_t *)toml_get(t, k->parts[i]);
        st_rc_t rc;

        if (next == NULL) {
            if ((next = new_value(c, TOML_TABLE, k->at[i])) == NULL)
                return no_memory(c);
            next->flags_ = dotted ? TF_DOTTED : TF_IMPLICIT;
            if ((rc = table_put(c, t, k->parts[i], next, k->at[i])) != ST_OK)
                return rc;
        } else if (next->kind == TOML_ARRAY && (next->flags_ & TF_AOT) && !dotted) {
            next = next->items[next->n - 1];
        } else if (next->kind != TOML_TABLE || (next->flags_ & TF_INLINE) ||
                   (dotted && !(next->flags_ & TF_DOTTED))) {
            return fail_at(c, k->at[i],
                           next->kind != TOML_TABLE || (next->flags_ & TF_INLINE)
                               ? "key '%s' is already defined as a value"
                               : "table '%s' is already defined; dotted keys cannot extend it",
                           key_name(c, k, i));
        }
        t = next;
    }
    *out = t;
    return ST_OK;
}

/* key = value, in table. */
static st_rc_t put_pair(ctx_t *c, toml_value_t *table, TSNode pair)
{
    key_path_t k = {.n = 0};
    toml_value_t *t, *v;
    TSNode key = ts_node_named_child(pair, 0), value;
    uint32_t i = 1;
    st_rc_t rc;

    while (strcmp(ts_node_type(key), "comment") == 0)
        key = ts_node_named_child(pair, i++);
    value = ts_node_named_child(pair, i);
    while (!ts_node_is_null(value) && strcmp(ts_node_type(value), "comment") == 0)
        value = ts_node_named_child(pair, ++i);
    if (ts_node_is_null(value))
        return fail_at(c, ts_node_start_point(pair), "expected a value%s", "");
    if ((rc = read_key(c, key, &k)) != ST_OK ||
        (rc = descend(c, table, &k, k.n - 1, true, &t)) != ST_OK)
        return rc;
    if (toml_get(t, k.parts[k.n - 1]) != NULL)
        return fail_at(c, k.at[k.n - 1], "duplicate key '%s'", key_name(c, &k, k.n - 1));
    if ((rc = read_value(c, value, &v)) != ST_OK)
        return rc;
    return table_put(c, t, k.parts[k.n - 1], v, k.at[k.n - 1]);
}

/* [header] or [[header]]: the table its pairs go to, in *out. */
static st_rc_t open_header(ctx_t *c, toml_value_t *root, TSNode key, bool aot, toml_value_t **out)
{
    key_path_t k = {.n = 0};
    const char *last;
    toml_value_t *parent, *t;
    st_rc_t rc;

    if ((rc = read_key(c, key, &k)) != ST_OK ||
        (rc = descend(c, root, &k, k.n - 1, false, &parent)) != ST_OK)
        return rc;
    last = k.parts[k.n - 1];
    t = (toml_value_t *)toml_get(parent, last);
    if (aot) {
        toml_value_t *elem = new_value(c, TOML_TABLE, k.at[k.n - 1]);

        if (elem == NULL)
            return no_memory(c);
        elem->flags_ = TF_HEADER;
        if (t == NULL) {
            if ((t = new_value(c, TOML_ARRAY, k.at[k.n - 1])) == NULL)
                return no_memory(c);
            t->flags_ = TF_AOT;
            if ((rc = table_put(c, parent, last, t, k.at[k.n - 1])) != ST_OK)
                return rc;
        } else if (t->kind != TOML_ARRAY || !(t->flags_ & TF_AOT)) {
            return fail_at(c, k.at[k.n - 1],
                           t->kind == TOML_TABLE
                               ? "'%s' is a table, not an array of tables"
                               : "key '%s' is already defined as a value; [[...]] cannot extend it",
                           key_name(c, &k, k.n - 1));
        }
        *out = elem;
        return array_push(c, t, elem);
    }
    if (t == NULL) {
        if ((t = new_value(c, TOML_TABLE, k.at[k.n - 1])) == NULL)
            return no_memory(c);
        t->flags_ = TF_HEADER;
        *out = t;
        return table_put(c, parent, last, t, k.at[k.n - 1]);
    }
    if (t->kind == TOML_ARRAY && (t->flags_ & TF_AOT))
        return fail_at(c, k.at[k.n - 1], "'%s' is an array of tables, not a table",
                       key_name(c, &k, k.n - 1));
    if (t->kind == TOML_TABLE && (t->flags_ & TF_DOTTED))
        return fail_at(c, k.at[k.n - 1], "table [%s] is already defined by dotted keys",
                       key_name(c, &k, k.n - 1));
    if (t->kind != TOML_TABLE || (t->flags_ & TF_INLINE))
        return fail_at(c, k.at[k.n - 1], "key '%s' is already defined as a value",
                       key_name(c, &k, k.n - 1));
    if (t->flags_ & TF_HEADER)
        return fail_at(c, k.at[k.n - 1], "table [%s] is defined twice", key_name(c, &k, k.n - 1));
    t->flags_ = TF_HEADER;
    *out = t;
    return ST_OK;
}

/* The pairs of a [table] or [[table]] node, after its key. */
static st_rc_t read_section(ctx_t *c, toml_value_t *root, TSNode node, bool aot)
{
    toml_value_t *t = NULL;
    bool opened = false;
    st_rc_t rc;

    for (uint32_t i = 0; i < ts_node_named_child_count(node); i++) {
        TSNode ch = ts_node_named_child(node, i);
        const char *type = ts_node_type(ch);

        if (strcmp(type, "comment") == 0)
            continue;
        if (!opened) {
            if ((rc = open_header(c, root, ch, aot, &t)) != ST_OK)
                return rc;
            opened = true;
        } else if ((rc = put_pair(c, t, ch)) != ST_OK) {
            return rc;
        }
    }
    return ST_OK;
}

/* The first ERROR or MISSING node under node, in document order. */
static bool first_error(TSNode node, TSNode *out)
{
    if (ts_node_is_missing(node) || strcmp(ts_node_type(node), "ERROR") == 0) {
        *out = node;
        return true;
    }
    for (uint32_t i = 0; i < ts_node_child_count(node); i++) {
        TSNode ch = ts_node_child(node, i);
        if (ts_node_has_error(ch) && first_error(ch, out))
            return true;
    }
    return false;
}

/* Where the parser gave up inside an ERROR node: at a character it could
 * not take, else at the last token it skipped (its start of line when the
 * node is empty). */
static TSPoint give_up_point(TSNode bad)
{
    uint32_t n = ts_node_child_count(bad);

    for (uint32_t i = 0; i < n; i++) {
        TSNode ch = ts_node_child(bad, i);
        if (strcmp(ts_node_type(ch), "UNEXPECTED") == 0 || ts_node_is_missing(ch))
            return ts_node_start_point(ch);
    }
    return n > 0 ? ts_node_start_point(ts_node_child(bad, n - 1)) : ts_node_start_point(bad);
}

static st_rc_t syntax_error(ctx_t *c, TSNode root)
{
    TSNode bad = root;
    const char *s;
    size_t n;

    first_error(root, &bad);
    if (ts_node_is_missing(bad))
        return fail_at(c, ts_node_start_point(bad), "syntax error: missing '%s'",
                       ts_node_type(bad));
    s = c->text + ts_node_start_byte(bad);
    n = ts_node_end_byte(bad) - ts_node_start_byte(bad);
    if (memchr(s, '\\', n) != NULL && (memchr(s, '"', n) != NULL || s[0] == '\\'))
        return fail_at(c, give_up_point(bad), "syntax error: invalid escape sequence%s", "");
    return fail_at(c, give_up_point(bad), "syntax error%s", "");
}

static st_rc_t read_document(ctx_t *c, TSNode doc, toml_value_t *root)
{
    for (uint32_t i = 0; i < ts_node_named_child_count(doc); i++) {
        TSNode ch = ts_node_named_child(doc, i);
        const char *type = ts_node_type(ch);
        st_rc_t rc = ST_OK;

        if (strcmp(type, "pair") == 0)
            rc = put_pair(c, root, ch);
        else if (strcmp(type, "table") == 0 || strcmp(type, "table_array_element") == 0)
            rc = read_section(c, root, ch, type[5] == '_');
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

st_rc_t toml_parse(const char *path, const char *text, size_t len, toml_doc_t **out, st_err_t *err)
{
    TSParser *parser = NULL;
    TSTree *tree = NULL;
    toml_doc_t *doc = NULL;
    ctx_t c = {.path = path, .text = text, .err = err};
    const char *nul;
    st_rc_t rc = ST_ENOMEM;

    if (len > TOML_MAX_BYTES)
        return st_fail(err, ST_ELIMIT, "%s:1:1: too large for a configuration file", path);
    if ((nul = memchr(text, '\0', len)) != NULL) {
        TSPoint at = {0, 0};
        for (const char *p = text; p < nul; p++)
            at = *p == '\n' ? (TSPoint){at.row + 1, 0} : (TSPoint){at.row, at.column + 1};
        return fail_at(&c, at, "a NUL byte%s", ": not a TOML file");
    }
    if ((doc = st_calloc(1, sizeof *doc)) == NULL || (doc->arena = arena_new(4096)) == NULL ||
        (parser = ts_parser_new()) == NULL || !ts_parser_set_language(parser, tree_sitter_toml()) ||
        (tree = ts_parser_parse_string(parser, NULL, text, (uint32_t)len)) == NULL) {
        rc = st_fail(err, ST_ENOMEM, "%s: cannot start the TOML parser", path);
        goto fail;
    }
    c.a = doc->arena;
    TSNode root = ts_tree_root_node(tree);
    if (ts_node_has_error(root)) {
        rc = syntax_error(&c, root);
        goto fail;
    }
    if ((doc->root = new_value(&c, TOML_TABLE, ts_node_start_point(root))) == NULL) {
        rc = no_memory(&c);
        goto fail;
    }
    if ((rc = read_document(&c, root, doc->root)) != ST_OK)
        goto fail;
    ts_tree_delete(tree);
    ts_parser_delete(parser);
    *out = doc;
    return ST_OK;
fail:
    if (tree != NULL)
        ts_tree_delete(tree);
    if (parser != NULL)
        ts_parser_delete(parser);
    toml_destroy(&doc);
    return rc;
}

const toml_value_t *toml_root(const toml_doc_t *doc)
{
    return doc->root;
}

void toml_destroy(toml_doc_t **doc_p)
{
    if (doc_p == NULL || *doc_p == NULL)
        return;
    arena_destroy(&(*doc_p)->arena);
    st_free(*doc_p);
    *doc_p = NULL;
}
