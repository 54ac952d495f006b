/* report_json.c - the report's JSON documents: json, json-lines, SARIF
 * 2.1.0, GitLab Code Quality and the statistics, all encoded by jansson.
 *
 * jansson encodes every value (escaping, numbers); the arrays are laid out
 * here, one object per line, so a document streams out in 64 KiB pieces
 * instead of being built whole, and json and sarif keep the bytes they had
 * before jansson: jansson's default separators (", " and ": ") are the ones
 * the hand-written writer used. jansson only takes valid UTF-8, and paths
 * are bytes, so every string is cleaned first (invalid bytes become
 * U+FFFD). The same library serves the language server later: one JSON
 * library in the project. */
#include "run/report_int.h"

#include "common/alloc.h"
#include "common/digest.h"
#include "worker/jobkey.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT 65536

static int append_chunk(const char *p, size_t n, void *ctx)
{
    return buf_append(ctx, p, n) == ST_OK ? 0 : -1;
}

/* Appends v (NULL: out of memory while building it) encoded by jansson. */
static st_rc_t append_json(buf_t *b, json_t *v)
{
    st_rc_t rc = ST_ENOMEM;

    if (v != NULL && json_dump_callback(v, append_chunk, b, JSON_ENCODE_ANY) == 0)
        rc = ST_OK;
    json_decref(v);
    return rc;
}

/* A JSON string of s[0..len) cleaned to UTF-8; NULL when out of memory. */
static json_t *jstr_n(const char *s, size_t len)
{
    buf_t clean;
    json_t *v = NULL;

    buf_init(&clean);
    if (report__utf8_clean(&clean, s, len, false) == ST_OK)
        v = json_stringn(clean.len > 0 ? (const char *)clean.data : "", clean.len);
    buf_free(&clean);
    return v;
}

static json_t *jstr(const char *s)
{
    return jstr_n(s, strlen(s));
}

st_rc_t report_json_string(buf_t *b, const char *s, size_t len)
{
    return append_json(b, jstr_n(s, len));
}

/* Sets key to v in obj (v's reference is taken, even on failure); false
 * when obj or v is NULL (out of memory) or jansson fails. */
static bool put(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v) == 0;
}

/* {"filename", "line", "column", "code", "message"}: today's JSON object. */
static json_t *entry_object(const report_entry_t *e)
{
    json_t *o = json_object();

    if (put(o, "filename", jstr(e->path)) && put(o, "line", json_integer(e->line)) &&
        put(o, "column", json_integer(e->col)) && put(o, "code", jstr(e->code)) &&
        put(o, "message", jstr(e->message)))
        return o;
    json_decref(o);
    return NULL;
}

/* Appends the i-th object of a document: an array laid out one object per
 * line ("[\n  {..},\n  {..}\n]"), or one line each (lines). */
static st_rc_t append_element(buf_t *b, size_t i, bool lines, json_t *v)
{
    st_rc_t rc = ST_OK;

    if (!lines)
        rc = buf_append(b, i == 0 ? "\n  " : ",\n  ", i == 0 ? 3 : 4);
    if (rc == ST_OK)
        rc = append_json(b, v);
    else
        json_decref(v);
    if (rc == ST_OK && lines)
        rc = buf_append_byte(b, '\n');
    return rc;
}

/* The end of a document of n elements; flushes b. */
static st_rc_t finish(buf_t *b, size_t n, bool lines, st_rc_t rc, FILE *out, st_err_t *err)
{
    if (rc == ST_OK && !lines)
        rc = buf_append(b, n > 0 ? "\n]\n" : "]\n", n > 0 ? 3 : 2);
    if (rc != ST_OK)
        return st_fail(err, rc, "report: cannot format: %s", st_strerror(rc));
    return report__flush(b, out, err);
}

/* Flushes b once it holds FLUSH_AT bytes. */
static st_rc_t maybe_flush(buf_t *b, FILE *out, st_err_t *err)
{
    return b->len >= FLUSH_AT ? report__flush(b, out, err) : ST_OK;
}

st_rc_t report__write_json(const report_entry_t *items, size_t n, bool lines, buf_t *b, FILE *out,
                           st_err_t *err)
{
    st_rc_t rc = lines ? ST_OK : buf_append_byte(b, '[');

    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        rc = append_element(b, i, lines, entry_object(&items[i]));
        if (rc == ST_OK && maybe_flush(b, out, err) != ST_OK)
            return ST_EIO;
    }
    return finish(b, n, lines, rc, out, err);
}

st_rc_t report__write_json_statistics(const report_code_count_t *counts, size_t n, buf_t *b,
                                      FILE *out, st_err_t *err)
{
    st_rc_t rc = buf_append_byte(b, '[');

    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        json_t *o = json_object();

        if (!put(o, "code", jstr(counts[i].code)) ||
            !put(o, "count", json_integer((json_int_t)counts[i].count))) {
            json_decref(o);
            o = NULL;
        }
        rc = append_element(b, i, false, o);
    }
    return finish(b, n, false, rc, out, err);
}

/* ---- SARIF ------------------------------------------------------------ */

/* A path as a SARIF artifact URI: bytes outside RFC 3986's unreserved set
 * and '/' percent-encoded; an absolute path as a file:// URI (a relative
 * reference may not start with '/'). */
static json_t *sarif_uri(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_t u;
    json_t *v = NULL;
    st_rc_t rc;

    buf_init(&u);
    rc = path[0] == '/' ? buf_append(&u, "file://", 7) : ST_OK;
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0' && rc == ST_OK; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/')
            rc = buf_append_byte(&u, *p);
        else
            rc = buf_printf(&u, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    if (rc == ST_OK)
        v = json_stringn(u.len > 0 ? (const char *)u.data : "", u.len);
    buf_free(&u);
    return v;
}

/* One result: the rule, its level (E codes are errors, the others
 * warnings), the message and the place. */
static json_t *sarif_result(const report_entry_t *e)
{
    json_t *r = json_object(), *msg = json_object(), *loc = json_object(), *phys = json_object();
    json_t *art = json_object(), *region = json_object();

    if (put(r, "ruleId", jstr(e->code)) &&
        put(r, "level", json_string(e->code[0] == 'E' ? "error" : "warning")) &&
        put(msg, "text", jstr(e->message)) && put(r, "message", json_incref(msg)) &&
        put(art, "uri", sarif_uri(e->path)) && put(phys, "artifactLocation", json_incref(art)) &&
        put(region, "startLine", json_integer(e->line)) &&
        put(region, "startColumn", json_integer(e->col)) &&
        put(phys, "region", json_incref(region)) &&
        put(loc, "physicalLocation", json_incref(phys)) &&
        put(r, "locations", json_pack("[O]", loc))) {
        json_decref(msg), json_decref(loc), json_decref(phys), json_decref(art);
        json_decref(region);
        return r;
    }
    json_decref(r), json_decref(msg), json_decref(loc), json_decref(phys), json_decref(art);
    json_decref(region);
    return NULL;
}

static int cmp_codes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tool: its name, version and the distinct codes as rules. */
static st_rc_t sarif_rules(const report_entry_t *items, size_t n, buf_t *b, st_err_t *err)
{
    const char **codes = st_calloc(n == 0 ? 1 : n, sizeof *codes);
    st_rc_t rc;

    if (codes == NULL)
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    for (size_t i = 0; i < n; i++)
        codes[i] = items[i].code;
    qsort(codes, n, sizeof *codes, cmp_codes);
    rc = buf_printf(b, "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                       "  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": "
                       "{\"name\": \"strata\", \"version\": ");
    if (rc == ST_OK)
        rc = append_json(b, jstr(STRATA_VERSION));
    if (rc == ST_OK)
        rc = buf_append(b, ", \"rules\": [", 12);
    for (size_t i = 0, k = 0; i < n && rc == ST_OK; i++) {
        if (i > 0 && strcmp(codes[i], codes[i - 1]) == 0)
            continue;
        rc = buf_printf(b, "%s\n      ", k++ == 0 ? "" : ",");
        if (rc == ST_OK)
            rc = append_json(b, json_pack("{so}", "id", jstr(codes[i])));
    }
    st_free(codes);
    return rc;
}

st_rc_t report__write_sarif(const report_entry_t *items, size_t n, buf_t *b, FILE *out,
                            st_err_t *err)
{
    st_rc_t rc = sarif_rules(items, n, b, err);

    if (rc == ST_OK)
        rc = buf_printf(b, "%s", "]}},\n    \"results\": [");
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        if ((rc = buf_append(b, i == 0 ? "\n      " : ",\n      ", i == 0 ? 7 : 8)) == ST_OK)
            rc = append_json(b, sarif_result(&items[i]));
        if (rc == ST_OK && maybe_flush(b, out, err) != ST_OK)
            return ST_EIO;
    }
    if (rc == ST_OK)
        rc = buf_printf(b, "%s", n > 0 ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n");
    if (rc != ST_OK)
        return st_fail(err, rc, "report: cannot format: %s", st_strerror(rc));
    return report__flush(b, out, err);
}

/* ---- GitLab Code Quality ---------------------------------------------- */

/* The identity of a diagnostic apart from where it is: path, code, message
 * and the text of its source line without surrounding blanks. */
static st_rc_t identity(const report_entry_t *e, report_source_t *src, digest_t *out)
{
    size_t len = 0;
    const char *text = report__source_line(src, e->path, e->line, e->col, &len);
    buf_t b;
    st_rc_t rc;

    while (text != NULL && len > 0 && isspace((unsigned char)*text))
        text++, len--;
    while (text != NULL && len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    buf_init(&b);
    rc = buf_printf(&b, "%s%c%s%c%s%c", e->path, 0, e->code, 0, e->message, 0);
    if (rc == ST_OK && text != NULL)
        rc = buf_append(&b, text, len);
    if (rc == ST_OK)
        rc = digest_sha256(b.data, b.len, out);
    buf_free(&b);
    return rc;
}

typedef struct {
    digest_t id;
    size_t index;
} gitlab_key_t;

static int cmp_keys(const void *pa, const void *pb)
{
    const gitlab_key_t *a = pa, *b = pb;
    int c = memcmp(a->id.b, b->id.b, sizeof a->id.b);

    return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

/* The fingerprints of items[0..n): each identity with its occurrence index
 * among identical ones (in report order), hashed; as 32 hex digits. Not
 * the line number: a line inserted above keeps them. */
static st_rc_t fingerprints(const report_entry_t *items, size_t n,
                            const report_source_check_t *check, char (*fp)[33], st_err_t *err)
{
    gitlab_key_t *keys = st_calloc(n == 0 ? 1 : n, sizeof *keys);
    report_source_t src;
    st_rc_t rc = ST_OK;

    if (keys == NULL)
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    report__source_init(&src, check);
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        keys[i].index = i;
        rc = identity(&items[i], &src, &keys[i].id);
    }
    report__source_free(&src);
    qsort(keys, n, sizeof *keys, cmp_keys);
    for (size_t i = 0, occ = 0; i < n && rc == ST_OK; i++) {
        uint8_t in[40];
        digest_t d;
        char hex[DIGEST_HEX_LEN + 1];

        occ = i > 0 && memcmp(keys[i].id.b, keys[i - 1].id.b, 32) == 0 ? occ + 1 : 0;
        memcpy(in, keys[i].id.b, 32);
        for (int k = 0; k < 8; k++)
            in[32 + k] = (uint8_t)((uint64_t)occ >> (8 * k));
        if ((rc = digest_sha256(in, sizeof in, &d)) == ST_OK) {
            digest_to_hex(&d, hex);
            memcpy(fp[keys[i].index], hex, 32);
            fp[keys[i].index][32] = '\0';
        }
    }
    st_free(keys);
    return rc == ST_OK ? ST_OK : st_fail(err, rc, "report: cannot hash a fingerprint");
}

static json_t *gitlab_issue(const report_entry_t *e, const char *fingerprint)
{
    json_t *o = json_object(), *loc = json_object();

    if (put(o, "description", jstr(e->message)) && put(o, "check_name", jstr(e->code)) &&
        put(o, "fingerprint", json_string(fingerprint)) &&
        put(o, "severity", json_string(e->code[0] == 'E' ? "major" : "minor")) &&
        put(loc, "path", jstr(e->path)) &&
        put(loc, "lines", json_pack("{sI}", "begin", (json_int_t)e->line)) &&
        put(o, "location", json_incref(loc))) {
        json_decref(loc);
        return o;
    }
    json_decref(o);
    json_decref(loc);
    return NULL;
}

st_rc_t report__write_gitlab(const report_entry_t *items, size_t n,
                             const report_source_check_t *check, buf_t *b, FILE *out, st_err_t *err)
{
    char(*fp)[33] = st_calloc(n == 0 ? 1 : n, sizeof *fp);
    st_rc_t rc;

    if (fp == NULL)
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    if ((rc = fingerprints(items, n, check, fp, err)) != ST_OK) {
        st_free(fp);
        return rc;
    }
    rc = buf_append_byte(b, '[');
    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        rc = append_element(b, i, false, gitlab_issue(&items[i], fp[i]));
        if (rc == ST_OK && maybe_flush(b, out, err) != ST_OK) {
            st_free(fp);
            return ST_EIO;
        }
    }
    st_free(fp);
    return finish(b, n, false, rc, out, err);
}
