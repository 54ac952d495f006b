/* lsp.c - `strata lsp`: JSON-RPC over stdio, the lifecycle, the documents.
 *
 * One thread does everything, in the order messages arrive: a keystroke's
 * scan takes a millisecond or two, and a save's check of the workspace is
 * answered by the cache for every module whose inputs did not change, so
 * queueing behind them costs less than the locks a second thread would
 * need around the documents and the project. Messages are read ahead into
 * a queue before one is handled, which is what lets $/cancelRequest reach
 * a request still waiting. Every message is untrusted: wrong types get
 * JSON-RPC's errors, never a crash, and the framing (cli/lspio.h) bounds
 * what one message may cost. The server leaves when its client does: EOF
 * on standard input, SIGTERM, or the processId initialize named gone. */
#include "cli/lsp.h"

#include "cli/lsp_int.h"

#include "common/digest.h"
#include "common/alloc.h"
#include "worker/jobkey.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* JSON-RPC's and LSP's error codes. */
enum {
    ERR_PARSE = -32700,
    ERR_INVALID_REQUEST = -32600,
    ERR_METHOD_NOT_FOUND = -32601,
    ERR_INVALID_PARAMS = -32602,
    ERR_INTERNAL = -32603,
    ERR_NOT_INITIALIZED = -32002,
    ERR_CANCELLED = -32800
};

#define PARENT_CHECK_MS 2000 /* how often the client's processId is looked at */
#define MAX_FOLDERS 1024     /* workspace folders kept; more are ignored */
#define MAX_QUEUE 4096       /* messages read ahead; past them reading waits */

static volatile sig_atomic_t stop_signal;
static atomic_bool stop_run; /* the same, for a check under way (run_opts_t.cancel) */

static void on_term(int sig)
{
    (void)sig;
    stop_signal = 1;
    atomic_store(&stop_run, true);
}

static const char usage_text[] =
    "usage: strata lsp [--stdio] [--max-message-size BYTES] [CHECK OPTIONS]\n"
    "\n"
    "Run a Language Server Protocol 3.17 server on standard input and output,\n"
    "for editors. Open buffers are checked as they change (the per-file checks)\n"
    "and the workspace's modules across files when a buffer is opened or saved,\n"
    "with the configuration (pyproject.toml, strata.toml) and the cache that\n"
    "strata check uses in the workspace's first folder. See docs/lsp.md.\n"
    "\n"
    "options:\n"
    "  --stdio               talk on standard input and output (the default and\n"
    "                        only transport; accepted for editors that pass it)\n"
    "  --max-message-size BYTES  the largest message body read (default 64M); a\n"
    "                        larger one gets an error response and is skipped\n"
    "  CHECK OPTIONS         strata check's options (--cache-dir, --no-cache,\n"
    "                        --select, --ignore, --python, --config, ...) apply\n"
    "                        to the workspace as they would to strata check\n"
    "\n"
    "exit status: 0 after shutdown and exit, 1 when the client went away\n"
    "without them, 2 on a usage error\n";

const char *lsp_usage(void)
{
    return usage_text;
}

/* ---- sending ------------------------------------------------------------------ */

static void send_json(lsp_t *s, json_t *msg)
{
    char *text;
    st_err_t err = {0};

    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text == NULL) {
        fprintf(stderr, "strata lsp: out of memory encoding a message, dropped\n");
        return;
    }
    if (lspio_write(s->out_fd, text, strlen(text), s->stop, &err) != ST_OK && !s->exit_now) {
        fprintf(stderr, "strata lsp: %s; the client is gone, exiting\n", err.msg);
        s->exit_now = true;
        s->exit_code = s->shutdown ? 0 : 1;
    }
    free(text);
}

static void respond(lsp_t *s, const json_t *id, json_t *result)
{
    json_t *m = json_object();

    json_object_set(m, "id", id != NULL ? (json_t *)id : json_null());
    json_object_set_new(m, "result", result != NULL ? result : json_null());
    send_json(s, m);
}

static void respond_error(lsp_t *s, const json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void respond_error(lsp_t *s, const json_t *id, int code, const char *fmt, ...)
{
    json_t *m = json_object(), *e = json_object();
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(msg));
    json_object_set(m, "id", id != NULL ? (json_t *)id : json_null());
    json_object_set_new(m, "error", e);
    send_json(s, m);
}

void lsp__notify(lsp_t *s, const char *method, json_t *params)
{
    json_t *m = json_object();

    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params);
    send_json(s, m);
}

void lsp__request(lsp_t *s, const char *method, json_t *params)
{
    json_t *m = json_object();

    json_object_set_new(m, "id", json_integer(++s->next_id));
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params);
    send_json(s, m);
}

/* ---- URIs ------------------------------------------------------------------- */

char *lsp__path_of(const char *uri)
{
    const char *p;
    char *out, *o;

    if (strncmp(uri, "file://", 7) != 0)
        return NULL;
    p = uri + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/' || (out = malloc(strlen(p) + 1)) == NULL)
        return NULL;
    for (o = out; *p != '\0' && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && digest_hex_value(p[1]) >= 0 && digest_hex_value(p[2]) >= 0) {
            *o++ = (char)(digest_hex_value(p[1]) * 16 + digest_hex_value(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    if (memchr(out, '\0', (size_t)(o - out)) != NULL || out[1] == '\0') {
        free(out);
        return NULL;
    }
    while (o - out > 1 && o[-1] == '/')
        *--o = '\0';
    return out;
}

char *lsp__uri_of(const char *path)
{
    static const char keep[] = "/-._~";
    size_t n = strlen(path);
    char *out = malloc(7 + n * 3 + 1), *o;

    if (out == NULL)
        return NULL;
    memcpy(out, "file://", 7);
    o = out + 7;
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(keep, *p) != NULL)
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

/* ---- documents ----------------------------------------------------------------- */

void lsp__diags_free(lsp_diags_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].code);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

static lsp_doc_t *find_doc(lsp_t *s, const char *uri)
{
    for (size_t i = 0; i < s->n_docs; i++)
        if (strcmp(s->docs[i]->uri, uri) == 0)
            return s->docs[i];
    return NULL;
}

static void doc_free(lsp_doc_t *d)
{
    if (d == NULL)
        return;
    free(d->uri);
    free(d->path);
    lspdoc_free(&d->buf);
    if (d->tree != NULL)
        ts_tree_delete(d->tree);
    lsp__diags_free(&d->local);
    lsp__diags_free(&d->xmod);
    lsp__diags_free(&d->dropped);
    free(d);
}

/* The uri of params.textDocument (borrowed), or NULL. */
static const char *doc_uri(const json_t *params)
{
    return json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
}

/* ---- the diagnostics out ---------------------------------------------------------- */

/* The end of the word at col of line[0..n): the diagnostic's range. */
static size_t word_end(const char *line, size_t n, size_t col)
{
    size_t i = col;

    while (i < n && (line[i] == '_' || (line[i] >= 'a' && line[i] <= 'z') ||
                     (line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9') ||
                     (unsigned char)line[i] >= 0x80))
        i++;
    if (i == col && i < n)
        i++;
    return i;
}

static bool word_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}

/* Where name[0..len) stands whole (not inside a longer dotted name) on
 * line[0..n), at or after col: *from. */
static bool find_name(const char *line, size_t n, size_t col, const char *name, size_t len,
                      size_t *from)
{
    for (size_t i = col; len > 0 && i + len <= n; i++)
        if (memcmp(line + i, name, len) == 0 &&
            (i == 0 || (!word_char(line[i - 1]) && line[i - 1] != '.')) &&
            (i + len == n || (!word_char(line[i + len]) && line[i + len] != '.'))) {
            *from = i;
            return true;
        }
    return false;
}

/* For F401 ("'a.b' imported but unused", "'m.x as y' ..."), the name the
 * import binds where it stands on line[0..n), at or after col: [*from,
 * *to). False when it is not there (an import over several lines). The
 * range of the report runs from its column to there. */
static bool unused_name(const lsp_diag_t *d, const char *line, size_t n, size_t col, size_t *from,
                        size_t *to)
{
    const char *m = d->message, *q, *as, *name, *dot;
    size_t len;

    if (strcmp(d->code, "F401") != 0 || m[0] != '\'' || (q = strchr(m + 1, '\'')) == NULL)
        return false;
    name = m + 1;
    len = (size_t)(q - name);
    if ((as = memmem(name, len, " as ", 4)) != NULL) { /* the alias */
        len -= (size_t)(as + 4 - name);
        name = as + 4;
    }
    if (!find_name(line, n, col, name, len, from)) {
        /* `from m import x`: the message says m.x, the line x */
        for (dot = name + len; dot > name && dot[-1] != '.'; dot--)
            ;
        if (dot == name || !find_name(line, n, col, dot, len - (size_t)(dot - name), from))
            return false;
        len -= (size_t)(dot - name);
    }
    *to = *from + len;
    return true;
}

static json_t *position(uint32_t line, uint32_t character)
{
    return json_pack("{s:I,s:I}", "line", (json_int_t)line, "character", (json_int_t)character);
}

/* The start of each line of text (LSP's line ends), in a malloc'd array. */
static size_t *line_starts(const char *text, size_t len, size_t *n_out)
{
    size_t n = 1, cap = 64, *v = malloc(cap * sizeof *v);

    if (v == NULL)
        return NULL;
    v[0] = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n' && text[i] != '\r')
            continue;
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
            i++;
        if (n == cap) {
            size_t *w = realloc(v, (cap *= 2) * sizeof *v);
            if (w == NULL) {
                free(v);
                return NULL;
            }
            v = w;
        }
        v[n++] = i + 1;
    }
    *n_out = n;
    return v;
}

/* The module a cross-module report is about, named in its message
 * ("... in module 'a.b'", "Module 'a.b' has no ..."): its file, when it
 * is one of the workspace's, as relatedInformation. */
static void related(const lsp_t *s, const lsp_diag_t *d, json_t *j)
{
    const char *m = NULL, *end;
    char *uri;
    size_t n;

    if (strcmp(d->code, "E0611") == 0 && (m = strstr(d->message, " in module '")) != NULL)
        m += 12;
    else if (strcmp(d->code, "E1101") == 0 && strncmp(d->message, "Module '", 8) == 0)
        m = d->message + 8;
    if (m == NULL || (end = strchr(m, '\'')) == NULL || (n = (size_t)(end - m)) == 0 || n > 512)
        return;
    if ((uri = lsp__module_uri(s, m, n)) == NULL)
        return;
    json_object_set_new(j, "relatedInformation",
                        json_pack("[{s:{s:s,s:{s:{s:i,s:i},s:{s:i,s:i}}},s:s+#}]", "location",
                                  "uri", uri, "range", "start", "line", 0, "character", 0, "end",
                                  "line", 0, "character", 0, "message", "module ", m, (int)n));
    free(uri);
}

static json_t *one_diag(const lsp_t *s, const lsp_diag_t *d, const char *text, size_t len,
                        const size_t *starts, size_t n_lines)
{
    uint32_t line = d->line > 0 ? d->line - 1 : 0;
    size_t col = d->col > 0 ? d->col - 1 : 0, ls, le;
    json_t *j, *range;
    char href[512];
    int sev = d->code[0] == 'E' ? 1 : 2;

    if (line >= n_lines)
        line = (uint32_t)(n_lines - 1);
    ls = starts[line];
    le = line + 1 < n_lines ? starts[line + 1] : len;
    while (le > ls && (text[le - 1] == '\n' || text[le - 1] == '\r'))
        le--;
    /* from the reported column (strata check's): to the end of the word
       there, or of the unused name an import binds */
    size_t from, to = word_end(text + ls, le - ls, col), name_to;
    if (unused_name(d, text + ls, le - ls, col, &from, &name_to))
        to = name_to;
    range = json_pack("{s:o,s:o}", "start",
                      position(line, lspdoc_units(text + ls, le - ls, s->enc, col)), "end",
                      position(line, lspdoc_units(text + ls, le - ls, s->enc, to)));
    snprintf(href, sizeof href, "%s#%s", s->docs_url, d->code);
    for (char *p = strchr(href, '#'); p != NULL && *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    j = json_pack("{s:o,s:i,s:s,s:s,s:s,s:{s:s}}", "range", range, "severity", sev, "code", d->code,
                  "source", "strata", "message", d->message, "codeDescription", "href", href);
    if (j != NULL)
        related(s, d, j);
    return j;
}

/* Whether d's code and message are among drop's. */
static bool dropped(const lsp_diag_t *d, const lsp_diags_t *drop)
{
    for (size_t i = 0; drop != NULL && i < drop->n; i++)
        if (strcmp(drop->items[i].code, d->code) == 0 &&
            strcmp(drop->items[i].message, d->message) == 0)
            return true;
    return false;
}

json_t *lsp__diag_array(const lsp_t *s, const char *text, size_t len, const lsp_diags_t *a,
                        const lsp_diags_t *drop, const lsp_diags_t *b)
{
    json_t *arr = json_array();
    size_t n_lines = 0, *starts = line_starts(text, len, &n_lines);
    const lsp_diags_t *lists[2] = {a, b};

    if (starts == NULL)
        return arr;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; lists[k] != NULL && i < lists[k]->n; i++) {
            json_t *d;
            if (k == 0 && dropped(&lists[k]->items[i], drop))
                continue;
            if ((d = one_diag(s, &lists[k]->items[i], text, len, starts, n_lines)) != NULL)
                json_array_append_new(arr, d);
        }
    free(starts);
    return arr;
}

void lsp__publish_doc(lsp_t *s, lsp_doc_t *doc)
{
    json_t *p = json_object();

    json_object_set_new(p, "uri", json_string(doc->uri));
    json_object_set_new(p, "version", json_integer(doc->version));
    json_object_set_new(
        p, "diagnostics",
        lsp__diag_array(s, doc->buf.text, doc->buf.len, &doc->local, &doc->dropped, &doc->xmod));
    lsp__notify(s, "textDocument/publishDiagnostics", p);
}

/* ---- the lifecycle ----------------------------------------------------------------- */

static void add_folder(lsp_t *s, const char *uri)
{
    char *path = uri != NULL ? lsp__path_of(uri) : NULL, **v;

    if (path == NULL)
        return;
    if (s->n_folders == MAX_FOLDERS) { /* (each is compared with the others) */
        fprintf(stderr, "strata lsp: more than %d workspace folders; %s ignored\n", MAX_FOLDERS,
                path);
        free(path);
        return;
    }
    for (size_t i = 0; i < s->n_folders; i++)
        if (strcmp(s->folders[i], path) == 0) {
            free(path);
            return;
        }
    if ((v = realloc(s->folders, (s->n_folders + 1) * sizeof *v)) == NULL) {
        free(path);
        return;
    }
    s->folders = v;
    s->folders[s->n_folders++] = path;
}

static void remove_folder(lsp_t *s, const char *uri)
{
    char *path = uri != NULL ? lsp__path_of(uri) : NULL;

    for (size_t i = 0; path != NULL && i < s->n_folders; i++)
        if (strcmp(s->folders[i], path) == 0) {
            free(s->folders[i]);
            memmove(s->folders + i, s->folders + i + 1,
                    (s->n_folders - i - 1) * sizeof *s->folders);
            s->n_folders--;
            break;
        }
    free(path);
}

static bool offers_utf8(const json_t *caps)
{
    const json_t *encs = json_object_get(json_object_get(caps, "general"), "positionEncodings");
    size_t i;
    json_t *e;

    json_array_foreach(encs, i, e) if (json_is_string(e) &&
                                       strcmp(json_string_value(e), "utf-8") == 0) return true;
    return false;
}

static json_t *capabilities(const lsp_t *s)
{
    return json_pack("{s:s,s:{s:b,s:i,s:{s:b}},s:{s:s,s:b,s:b},s:{s:[s,s],s:b},s:{s:{s:b,s:b}}}",
                     "positionEncoding", s->enc == LSPDOC_UTF8 ? "utf-8" : "utf-16",
                     "textDocumentSync", "openClose", 1, "change", 2, "save", "includeText", 0,
                     "diagnosticProvider", "identifier", "strata", "interFileDependencies", 1,
                     "workspaceDiagnostics", 0, "codeActionProvider", "codeActionKinds", "quickfix",
                     "source.fixAll", "resolveProvider", 0, "workspace", "workspaceFolders",
                     "supported", 1, "changeNotifications", 1);
}

static void on_initialize(lsp_t *s, const json_t *id, const json_t *params)
{
    const json_t *caps = json_object_get(params, "capabilities");
    const json_t *folders = json_object_get(params, "workspaceFolders");
    const json_t *pid = json_object_get(params, "processId");
    size_t i;
    json_t *f;

    if (s->initialized) {
        respond_error(s, id, ERR_INVALID_REQUEST, "initialize was sent already");
        return;
    }
    s->enc = offers_utf8(caps) ? LSPDOC_UTF8 : LSPDOC_UTF16;
    s->progress_ok =
        json_is_true(json_object_get(json_object_get(caps, "window"), "workDoneProgress"));
    s->watch_dynamic = json_is_true(json_object_get(
        json_object_get(json_object_get(caps, "workspace"), "didChangeWatchedFiles"),
        "dynamicRegistration"));
    if (json_is_integer(pid) && json_integer_value(pid) > 0)
        s->parent_pid = (long)json_integer_value(pid);
    json_array_foreach(folders, i, f) add_folder(s, json_string_value(json_object_get(f, "uri")));
    if (s->n_folders == 0)
        add_folder(s, json_string_value(json_object_get(params, "rootUri")));
    if (s->n_folders == 0 && json_is_string(json_object_get(params, "rootPath"))) {
        const char *rp = json_string_value(json_object_get(params, "rootPath"));
        char *u = rp[0] == '/' ? lsp__uri_of(rp) : NULL;
        add_folder(s, u);
        free(u);
    }
    s->initialized = true;
    lsp__setup(s);
    respond(s, id,
            json_pack("{s:o,s:{s:s,s:s}}", "capabilities", capabilities(s), "serverInfo", "name",
                      "strata", "version", STRATA_VERSION));
}

static void on_initialized(lsp_t *s)
{
    if (s->watch_dynamic) {
        json_t *reg = json_pack("{s:[{s:s,s:s,s:{s:[{s:s},{s:s},{s:s},{s:s}]}}]}", "registrations",
                                "id", "strata-watch", "method", "workspace/didChangeWatchedFiles",
                                "registerOptions", "watchers", "globPattern", "**/*.py",
                                "globPattern", "**/*.pyi", "globPattern", "**/pyproject.toml",
                                "globPattern", "**/strata.toml");
        lsp__request(s, "client/registerCapability", reg);
    }
    lsp__check_all(s, "indexing the workspace");
}

/* ---- text documents ---------------------------------------------------------------- */

static void on_did_open(lsp_t *s, const json_t *params)
{
    const json_t *td = json_object_get(params, "textDocument");
    const char *uri = json_string_value(json_object_get(td, "uri"));
    const json_t *text = json_object_get(td, "text");
    lsp_doc_t *doc, **v;
    st_err_t err = {0};

    if (uri == NULL || !json_is_string(text))
        return;
    if ((doc = find_doc(s, uri)) == NULL) {
        if ((doc = calloc(1, sizeof *doc)) == NULL || (doc->uri = strdup(uri)) == NULL ||
            (v = realloc(s->docs, (s->n_docs + 1) * sizeof *v)) == NULL) {
            doc_free(doc);
            return;
        }
        s->docs = v;
        s->docs[s->n_docs++] = doc;
        doc->path = lsp__path_of(uri);
        doc->kind = scan_kind_of_path(doc->path != NULL ? doc->path : uri);
    }
    if (doc->tree != NULL) {
        ts_tree_delete(doc->tree);
        doc->tree = NULL;
    }
    doc->version = json_integer_value(json_object_get(td, "version"));
    if (lspdoc_set(&doc->buf, json_string_value(text), json_string_length(text), &err) != ST_OK)
        fprintf(stderr, "strata lsp: %s: %s\n", uri, err.msg);
    lsp__scan_doc(s, doc);
    lsp__publish_doc(s, doc);
    if (doc->path != NULL && s->n_folders > 0)
        lsp__check_all(s, NULL);
}

/* One content change: a range, or the whole text. */
static bool apply_change(lsp_t *s, lsp_doc_t *doc, const json_t *ch)
{
    const json_t *text = json_object_get(ch, "text"), *range = json_object_get(ch, "range");
    lspdoc_pos_t a, b;
    lspdoc_edit_t e;
    st_err_t err = {0};

    if (!json_is_string(text))
        return false;
    if (range == NULL) {
        if (doc->tree != NULL) {
            ts_tree_delete(doc->tree);
            doc->tree = NULL;
        }
        return lspdoc_set(&doc->buf, json_string_value(text), json_string_length(text), &err) ==
               ST_OK;
    }
    json_t *st = json_object_get(range, "start"), *en = json_object_get(range, "end");
    json_t *v[4] = {json_object_get(st, "line"), json_object_get(st, "character"),
                    json_object_get(en, "line"), json_object_get(en, "character")};
    uint32_t u[4];
    for (int i = 0; i < 4; i++) {
        if (!json_is_integer(v[i]) || json_integer_value(v[i]) < 0)
            return false;
        u[i] =
            json_integer_value(v[i]) > UINT32_MAX ? UINT32_MAX : (uint32_t)json_integer_value(v[i]);
    }
    a = (lspdoc_pos_t){u[0], u[1]};
    b = (lspdoc_pos_t){u[2], u[3]};
    if (lspdoc_apply(&doc->buf, s->enc, a, b, json_string_value(text), json_string_length(text), &e,
                     &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s: %s\n", doc->uri, err.msg);
        return false;
    }
    if (doc->tree != NULL) {
        TSInputEdit te = {
            .start_byte = e.start_byte,
            .old_end_byte = e.old_end_byte,
            .new_end_byte = e.new_end_byte,
            .start_point = {e.start_point.row, e.start_point.column},
            .old_end_point = {e.old_end_point.row, e.old_end_point.column},
            .new_end_point = {e.new_end_point.row, e.new_end_point.column},
        };
        ts_tree_edit(doc->tree, &te);
    }
    return true;
}

static bool on_did_change(lsp_t *s, const json_t *params)
{
    const char *uri = doc_uri(params);
    lsp_doc_t *doc = uri != NULL ? find_doc(s, uri) : NULL;
    const json_t *changes = json_object_get(params, "contentChanges");
    const json_t *ver = json_object_get(json_object_get(params, "textDocument"), "version");
    size_t i;
    json_t *ch;

    if (doc == NULL || !json_is_array(changes))
        return false;
    json_array_foreach(changes, i, ch) if (!apply_change(s, doc, ch))
    {
        fprintf(stderr, "strata lsp: %s: a change that does not apply, ignored\n", uri);
    }
    if (json_is_integer(ver))
        doc->version = json_integer_value(ver);
    lsp__scan_doc(s, doc);
    lsp__publish_doc(s, doc);
    return true;
}

static void on_did_close(lsp_t *s, const json_t *params)
{
    const char *uri = doc_uri(params);

    for (size_t i = 0; uri != NULL && i < s->n_docs; i++) {
        lsp_doc_t *doc = s->docs[i];

        if (strcmp(doc->uri, uri) != 0)
            continue;
        memmove(s->docs + i, s->docs + i + 1, (s->n_docs - i - 1) * sizeof *s->docs);
        s->n_docs--;
        /* what is on the disk takes the buffer's place: cleared now, and
           the check below publishes the file's own reports, if any (a
           closed file is published when it has some) */
        bool recheck = doc->path != NULL && s->n_folders > 0;
        lsp__notify(s, "textDocument/publishDiagnostics",
                    json_pack("{s:s,s:[]}", "uri", uri, "diagnostics"));
        doc_free(doc);
        if (recheck)
            lsp__check_all(s, NULL);
        return;
    }
}

static void on_pull_diagnostics(lsp_t *s, const json_t *id, const json_t *params)
{
    const char *uri = doc_uri(params);
    lsp_doc_t *doc = uri != NULL ? find_doc(s, uri) : NULL;

    if (uri == NULL) {
        respond_error(s, id, ERR_INVALID_PARAMS, "textDocument.uri missing");
        return;
    }
    if (doc == NULL) { /* not open: nothing of ours to say */
        respond(s, id, json_pack("{s:s,s:[]}", "kind", "full", "items"));
        return;
    }
    respond(s, id,
            json_pack("{s:s,s:o}", "kind", "full", "items",
                      lsp__diag_array(s, doc->buf.text, doc->buf.len, &doc->local, &doc->dropped,
                                      &doc->xmod)));
}

static void on_code_action(lsp_t *s, const json_t *id, const json_t *params)
{
    const char *uri = doc_uri(params);
    lsp_doc_t *doc = uri != NULL ? find_doc(s, uri) : NULL;
    const json_t *range = json_object_get(params, "range");
    json_int_t a = json_integer_value(json_object_get(json_object_get(range, "start"), "line"));
    json_int_t b = json_integer_value(json_object_get(json_object_get(range, "end"), "line"));
    const json_t *only = json_object_get(json_object_get(params, "context"), "only");

    if (doc == NULL) {
        respond(s, id, json_array());
        return;
    }
    if (a < 0 || a > UINT32_MAX)
        a = 0;
    if (b < a || b > UINT32_MAX)
        b = a;
    respond(s, id, lsp__code_actions(s, doc, (uint32_t)a, (uint32_t)b, only));
}

/* ---- the workspace --------------------------------------------------------------- */

static void resetup(lsp_t *s, const char *why)
{
    lsp__teardown(s);
    lsp__setup(s);
    lsp__check_all(s, why);
}

static void on_folders(lsp_t *s, const json_t *params)
{
    const json_t *ev = json_object_get(params, "event");
    size_t i;
    json_t *f;

    json_array_foreach(json_object_get(ev, "removed"), i, f)
        remove_folder(s, json_string_value(json_object_get(f, "uri")));
    json_array_foreach(json_object_get(ev, "added"), i, f)
        add_folder(s, json_string_value(json_object_get(f, "uri")));
    resetup(s, "indexing the workspace");
}

static void on_watched(lsp_t *s, const json_t *params)
{
    bool config = false;
    size_t i;
    json_t *c;

    json_array_foreach(json_object_get(params, "changes"), i, c)
    {
        const char *uri = json_string_value(json_object_get(c, "uri"));
        const char *base = uri != NULL ? strrchr(uri, '/') : NULL;

        if (base != NULL &&
            (strcmp(base, "/pyproject.toml") == 0 || strcmp(base, "/strata.toml") == 0 ||
             strcmp(base, "/.strata.toml") == 0))
            config = true;
    }
    if (config) {
        resetup(s, "reading the configuration again");
        return;
    }
    if (s->files_ok) /* a file made or removed: walk again */
        cli_files_free(&s->files);
    s->files_ok = false;
    lsp__check_all(s, NULL);
}

/* ---- dispatch -------------------------------------------------------------------- */

static void handle_notification(lsp_t *s, const char *method, const json_t *params)
{
    if (strcmp(method, "exit") == 0) {
        s->exit_now = true;
        s->exit_code = s->shutdown ? 0 : 1;
        return;
    }
    if (!s->initialized || s->shutdown)
        return; /* notifications before initialize are dropped (LSP) */
    if (strcmp(method, "initialized") == 0)
        on_initialized(s);
    else if (strcmp(method, "textDocument/didOpen") == 0)
        on_did_open(s, params);
    else if (strcmp(method, "textDocument/didChange") == 0)
        on_did_change(s, params);
    else if (strcmp(method, "textDocument/didSave") == 0)
        lsp__check_all(s, NULL);
    else if (strcmp(method, "textDocument/didClose") == 0)
        on_did_close(s, params);
    else if (strcmp(method, "workspace/didChangeConfiguration") == 0)
        resetup(s, "reading the configuration again");
    else if (strcmp(method, "workspace/didChangeWorkspaceFolders") == 0)
        on_folders(s, params);
    else if (strcmp(method, "workspace/didChangeWatchedFiles") == 0)
        on_watched(s, params);
    /* others ($/cancelRequest handled when read, $/setTrace, ...): ignored */
}

static void handle_request(lsp_t *s, const json_t *id, const char *method, const json_t *params)
{
    if (strcmp(method, "initialize") == 0) {
        on_initialize(s, id, params);
        return;
    }
    if (!s->initialized) {
        respond_error(s, id, ERR_NOT_INITIALIZED, "the server is not initialized");
        return;
    }
    if (s->shutdown) {
        respond_error(s, id, ERR_INVALID_REQUEST, "the server is shutting down");
        return;
    }
    if (strcmp(method, "shutdown") == 0) {
        s->shutdown = true;
        s->check_pending = false;
        respond(s, id, NULL);
    } else if (strcmp(method, "textDocument/diagnostic") == 0) {
        lsp__check_flush(s); /* the answer includes what a deferred check says */
        on_pull_diagnostics(s, id, params);
    } else if (strcmp(method, "textDocument/codeAction") == 0) {
        lsp__check_flush(s);
        on_code_action(s, id, params);
    } else {
        respond_error(s, id, ERR_METHOD_NOT_FOUND, "method not found: %s", method);
    }
}

/* One message, whole: a request, a notification, or a response to ours. */
static void handle(lsp_t *s, const json_t *msg)
{
    const json_t *id = json_object_get(msg, "id");
    const json_t *method = json_object_get(msg, "method");
    const json_t *params = json_object_get(msg, "params");

    if (!json_is_object(msg)) {
        respond_error(s, NULL, ERR_INVALID_REQUEST, "a message must be a JSON object");
        return;
    }
    if (id != NULL && !json_is_integer(id) && !json_is_string(id)) {
        respond_error(s, NULL, ERR_INVALID_REQUEST, "id must be an integer or a string");
        return;
    }
    if (method == NULL && id != NULL &&
        (json_object_get(msg, "result") != NULL || json_object_get(msg, "error") != NULL))
        return; /* a response to one of our requests */
    if (!json_is_string(method)) {
        if (id != NULL)
            respond_error(s, id, ERR_INVALID_REQUEST, "method must be a string");
        else
            respond_error(s, NULL, ERR_INVALID_REQUEST, "a message without a method");
        return;
    }
    if (json_is_null(params))
        params = NULL;
    if (params != NULL && !json_is_object(params) && !json_is_array(params)) {
        if (id != NULL)
            respond_error(s, id, ERR_INVALID_PARAMS, "params must be an object or an array");
        return;
    }
    if (id == NULL)
        handle_notification(s, json_string_value(method), params);
    else
        handle_request(s, id, json_string_value(method), params);
}

/* ---- reading ----------------------------------------------------------------------- */

/* A $/cancelRequest: a request with that id still queued is answered
 * RequestCancelled and dropped. */
static void cancel_queued(lsp_t *s, const json_t *msg)
{
    const json_t *id = json_object_get(json_object_get(msg, "params"), "id");

    for (size_t i = 0; id != NULL && i < s->q_len; i++) {
        json_t **m = &s->queue[(s->q_head + i) % s->q_cap];
        const json_t *qid = *m != NULL ? json_object_get(*m, "id") : NULL;

        if (qid != NULL && json_object_get(*m, "method") != NULL && json_equal(qid, id)) {
            respond_error(s, qid, ERR_CANCELLED, "request cancelled");
            json_decref(*m);
            *m = NULL;
        }
    }
}

static void enqueue(lsp_t *s, json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));

    if (method != NULL && strcmp(method, "$/cancelRequest") == 0 &&
        json_object_get(msg, "id") == NULL) {
        cancel_queued(s, msg);
        json_decref(msg);
        return;
    }
    if (s->q_len == s->q_cap) {
        size_t cap = s->q_cap != 0 ? s->q_cap * 2 : 16;
        json_t **q = malloc(cap * sizeof *q);

        if (q == NULL) {
            json_decref(msg);
            return;
        }
        for (size_t i = 0; i < s->q_len; i++)
            q[i] = s->queue[(s->q_head + i) % s->q_cap];
        free(s->queue);
        s->queue = q;
        s->q_cap = cap;
        s->q_head = 0;
    }
    s->queue[(s->q_head + s->q_len) % s->q_cap] = msg;
    s->q_len++;
}

/* The events of what was fed: messages queued, errors answered. */
static void drain(lsp_t *s)
{
    const char *body;
    size_t len;
    lspio_event_t ev;

    while (s->q_len < MAX_QUEUE && (ev = lspio_next(s->io, &body, &len)) != LSPIO_NONE) {
        json_error_t jerr;
        json_t *msg;

        if (ev == LSPIO_BAD_HEADER) {
            respond_error(s, NULL, ERR_PARSE, "a header block without a valid Content-Length");
        } else if (ev == LSPIO_TOO_LARGE) {
            respond_error(s, NULL, ERR_INVALID_REQUEST,
                          "a message of %zu bytes, over the limit (--max-message-size); skipped",
                          len);
        } else if ((msg = json_loadb(body, len, JSON_DECODE_ANY, &jerr)) == NULL) {
            respond_error(s, NULL, ERR_PARSE, "invalid JSON: %s", jerr.text);
        } else {
            enqueue(s, msg);
        }
    }
}

static bool parent_gone(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Reads what the client sent (waiting at most timeout_ms); false at EOF,
 * on a read error or when the server must stop. */
static bool read_input(lsp_t *s, int timeout_ms)
{
    struct pollfd p = {.fd = s->in_fd, .events = POLLIN};
    char chunk[65536];
    ssize_t n;
    st_err_t err = {0};
    int r = poll(&p, 1, timeout_ms);

    if (*s->stop)
        return false;
    if (r < 0)
        return errno == EINTR;
    if (r == 0)
        return !parent_gone(s->parent_pid);
    n = read(s->in_fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    if (lspio_feed(s->io, chunk, (size_t)n, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s; exiting\n", err.msg);
        return false;
    }
    drain(s);
    return true;
}

static void serve(lsp_t *s)
{
    while (!s->exit_now) {
        if (s->q_len == 0)
            drain(s); /* what was read past a full queue */
        if (s->q_len == 0 && s->check_pending) {
            lsp__check_flush(s); /* the messages that deferred it are handled */
            continue;
        }
        if (s->q_len == 0) {
            if (!read_input(s, PARENT_CHECK_MS)) {
                s->exit_code = s->shutdown ? 0 : 1;
                break;
            }
            continue;
        }
        /* what else has arrived, so that a cancellation reaches its request */
        while (s->q_len < MAX_QUEUE && !*s->stop) {
            struct pollfd p = {.fd = s->in_fd, .events = POLLIN};
            if (poll(&p, 1, 0) <= 0 || !read_input(s, 0))
                break;
        }
        json_t *msg = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
        if (msg != NULL) {
            handle(s, msg);
            json_decref(msg);
        }
        if (*s->stop) {
            s->exit_code = s->shutdown ? 0 : 1;
            break;
        }
    }
}

/* ---- the command ------------------------------------------------------------------ */

/* Takes --stdio, --max-message-size and --help out of argv (the rest is
 * check's); false on a usage error (said). */
static bool parse_args(int argc, char **argv, size_t *max_body, bool *help, int *rest_n,
                       char **rest)
{
    *rest_n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--stdio") == 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help = true;
            return true;
        }
        if (strncmp(a, "--max-message-size", 18) == 0) {
            const char *v =
                a[18] == '=' ? a + 19 : (a[18] == '\0' && i + 1 < argc ? argv[++i] : NULL);
            uint64_t bytes;

            if (v == NULL || !cli_parse_bytes(v, &bytes) || bytes == 0 ||
                bytes > ((uint64_t)1 << 31)) {
                fprintf(stderr, "strata lsp: --max-message-size wants a size from 1 to 2G\n"
                                "Try 'strata lsp --help'.\n");
                return false;
            }
            *max_body = (size_t)bytes;
            continue;
        }
        rest[(*rest_n)++] = argv[i];
    }
    return true;
}

/* strata check's options among ours are checked before serving: a bad
 * one is a usage error now rather than a warning at initialize. */
static bool check_options(int argc, char **argv)
{
    cli_check_t cfg;
    st_err_t err = {0};

    if (cli_parse_check(argc, argv, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s\nTry 'strata lsp --help'.\n", err.msg);
        return false;
    }
    cli_check_free(&cfg);
    return true;
}

int lsp_main(int argc, char **argv)
{
    struct sigaction sa = {0};

    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return lsp_serve(0, 1, argc, argv);
}

int lsp_serve(int in_fd, int out_fd, int argc, char **argv)
{
    lsp_t s = {.in_fd = in_fd,
               .out_fd = out_fd,
               .stop = &stop_signal,
               .cancel = &stop_run,
               .exit_code = 1};
    size_t max_body = 0;
    bool help = false;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);

    if (rest == NULL || !parse_args(argc, argv, &max_body, &help, &s.argc, rest)) {
        free(rest);
        return 2;
    }
    if (help) {
        fputs(usage_text, stdout);
        free(rest);
        return 0;
    }
    s.argv = rest;
    if (!check_options(s.argc, rest)) {
        free(rest);
        return 2;
    }
    s.docs_url = getenv("STRATA_DOCS_URL") != NULL && getenv("STRATA_DOCS_URL")[0] != '\0'
                     ? getenv("STRATA_DOCS_URL")
                     : LSP_DOCS_URL;
    if ((s.io = lspio_new(max_body)) == NULL) {
        fprintf(stderr, "strata lsp: out of memory\n");
        free(rest);
        return 2;
    }
    serve(&s);
    lsp__teardown(&s);
    for (size_t i = 0; i < s.n_docs; i++)
        doc_free(s.docs[i]);
    free(s.docs);
    for (size_t i = 0; i < s.n_folders; i++)
        free(s.folders[i]);
    free(s.folders);
    while (s.q_len > 0) {
        json_decref(s.queue[s.q_head]);
        s.q_head = (s.q_head + 1) % s.q_cap;
        s.q_len--;
    }
    free(s.queue);
    for (size_t i = 0; i < s.n_pub; i++)
        free(s.pub_paths[i]);
    free(s.pub_paths);
    free(s.pub_hashes);
    scanner_destroy(&s.scanner);
    arena_destroy(&s.arena);
    lspio_destroy(&s.io);
    free(rest);
    return s.exit_code;
}
