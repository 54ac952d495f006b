/* lspcheck.c - what `strata lsp` checks: a buffer's scan on each change,
 * the workspace's modules on open and save.
 *
 * The workspace is checked as `strata check` run in its first folder
 * would check it: the same options (the server's command line), the same
 * configuration files, the same cache directory and the same run module,
 * so that what the server computes is a cache hit for the command and the
 * other way round. Open buffers take the place of their files (as
 * standard input does for the command). The walk is kept between checks
 * and made again only when files are created or removed; every other file
 * is found unchanged by the stat index and answered by the cache, and the
 * check jobs whose inputs did not change are hits too (early cutoff), so a
 * save re-runs the scan of the saved module and the checks it reaches. */
#include "cli/lsp_int.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/file.h"
#include "run/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- paths -------------------------------------------------------------------- */

/* The name the walk gives the file at the absolute path (malloc'd): "./x"
 * below the first folder, as `strata check .` there names it. */
static char *walk_name(const lsp_t *s, const char *abs)
{
    size_t n = s->n_folders > 0 ? strlen(s->folders[0]) : 0;
    char *out;

    if (n > 0 && strncmp(abs, s->folders[0], n) == 0 && abs[n] == '/') {
        if ((out = malloc(strlen(abs + n) + 2)) != NULL)
            sprintf(out, ".%s", abs + n);
        return out;
    }
    return strdup(abs);
}

/* The absolute path of a walk's name (malloc'd). */
static char *abs_name(const lsp_t *s, const char *name)
{
    char *out;

    if (name[0] == '.' && name[1] == '/' && s->n_folders > 0) {
        if ((out = malloc(strlen(s->folders[0]) + strlen(name))) != NULL)
            sprintf(out, "%s%s", s->folders[0], name + 1);
        return out;
    }
    return strdup(name);
}

char *lsp__module_uri(const lsp_t *s, const char *name, size_t n)
{
    static const char *const tails[] = {".py", ".pyi", "/__init__.py", "/__init__.pyi"};
    static const char *const dirs[] = {"", "/src"};
    char path[4096];
    struct stat st;

    if (s->n_folders == 0)
        return NULL;
    for (size_t d = 0; d < 2; d++)
        for (size_t t = 0; t < 4; t++) {
            int k = snprintf(path, sizeof path, "%s%s/%.*s%s", s->folders[0], dirs[d], (int)n, name,
                             tails[t]);
            if (k < 0 || (size_t)k >= sizeof path)
                return NULL;
            for (char *p = path + strlen(s->folders[0]) + strlen(dirs[d]) + 1;
                 p < path + k - strlen(tails[t]); p++)
                if (*p == '.')
                    *p = '/';
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                return lsp__uri_of(path);
        }
    return NULL;
}

/* ---- the settings ----------------------------------------------------------------- */

static bool parse_settings(lsp_t *s)
{
    int n = 0;
    bool workers = false;
    st_err_t err = {0};

    for (int i = 0; i < s->argc; i++)
        workers = workers || strncmp(s->argv[i], "--workers", 9) == 0;
    s->check_argv = calloc((size_t)s->argc + s->n_folders + 2, sizeof *s->check_argv);
    if (s->check_argv == NULL)
        return false;
    for (int i = 0; i < s->argc; i++)
        s->check_argv[n++] = s->argv[i];
    if (!workers) /* worker processes would be started again for each check */
        s->check_argv[n++] = "--no-workers";
    for (size_t i = 0; i < s->n_folders; i++)
        s->check_argv[n++] = i == 0 ? "." : s->folders[i];
    if (cli_parse_check(n, s->check_argv, &s->cfg, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s; checking with the defaults\n", err.msg);
        n = 0;
        s->check_argv[n++] = "--no-workers";
        if (s->n_folders > 0)
            s->check_argv[n++] = ".";
        if (cli_parse_check(n, s->check_argv, &s->cfg, &err) != ST_OK)
            return false;
    }
    if (config_set_new(&s->cfg, &s->conf, &err) != ST_OK ||
        config_apply_run(s->conf, &s->cfg, &err) != ST_OK || config_error(s->conf, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s; the configuration is not applied\n", err.msg);
        config_set_destroy(&s->conf);
    }
    return true;
}

bool lsp__setup(lsp_t *s)
{
    if (s->n_folders > 0 && chdir(s->folders[0]) != 0)
        fprintf(stderr, "strata lsp: %s: cannot enter the folder\n", s->folders[0]);
    if (!parse_settings(s)) {
        fprintf(stderr, "strata lsp: out of memory setting up\n");
        return false;
    }
    s->set_up = true;
    s->scan_opts = (scan_opts_t){.max_file_bytes = s->cfg.max_file_bytes};
    if (s->n_folders > 0) { /* the cache and the environment of a check there */
        prep_start(&s->prep, &s->cfg);
        s->prep_ok = prep_finish(&s->prep, stderr);
        const env_t *env = &s->prep.env;
        if (s->prep_ok && env->major != 0) {
            s->scan_opts.target =
                (scan_target_t){.major = (uint8_t)env->major, .minor = (uint8_t)env->minor};
            snprintf(s->scan_opts.target.platform, sizeof s->scan_opts.target.platform, "%s",
                     env->platform);
        }
    }
    if (s->scanner == NULL)
        s->scanner = scanner_new();
    if (s->arena == NULL)
        s->arena = arena_new(1 << 20);
    s->files_ok = false;
    return s->scanner != NULL && s->arena != NULL;
}

void lsp__teardown(lsp_t *s)
{
    if (s->files_ok)
        cli_files_free(&s->files);
    s->files_ok = false;
    prep_free(&s->prep);
    memset(&s->prep, 0, sizeof s->prep);
    s->prep_ok = false;
    config_set_destroy(&s->conf);
    if (s->set_up)
        cli_check_free(&s->cfg);
    free(s->check_argv);
    s->check_argv = NULL;
    s->set_up = false;
}

bool lsp__enabled(lsp_t *s, const char *path, const char *code)
{
    st_err_t err = {0};

    if (!s->set_up)
        return true;
    if (s->conf != NULL && config_any(s->conf) && path != NULL &&
        config_lookup(s->conf, path, false, &err) == ST_OK)
        return config_enabled(s->conf, path, code);
    return report_rules_enabled(&s->cfg.rules, code);
}

/* ---- a buffer's scan ----------------------------------------------------------------- */

static bool diags_copy(lsp_diags_t *out, const scan_diag_t *d, size_t n, lsp_t *s, const char *path)
{
    lsp_diags_t l = {calloc(n == 0 ? 1 : n, sizeof(lsp_diag_t)), 0};

    if (l.items == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        lsp_diag_t *x = &l.items[l.n];

        if (s != NULL && !lsp__enabled(s, path, d[i].code))
            continue;
        x->line = d[i].line;
        x->col = d[i].col;
        x->code = strdup(d[i].code);
        x->message = strdup(d[i].message);
        l.n++;
        if (x->code == NULL || x->message == NULL) {
            lsp__diags_free(&l);
            return false;
        }
    }
    lsp__diags_free(out);
    *out = l;
    return true;
}

/* Past LSP_MAX_TREES documents with a tree, the least recently scanned
 * loses its own. */
static void forget_trees(lsp_t *s)
{
    size_t n = 0;
    lsp_doc_t *oldest = NULL;

    for (size_t i = 0; i < s->n_docs; i++)
        if (s->docs[i]->tree != NULL) {
            n++;
            if (oldest == NULL || s->docs[i]->touched < oldest->touched)
                oldest = s->docs[i];
        }
    if (n > LSP_MAX_TREES && oldest != NULL) {
        ts_tree_delete(oldest->tree);
        oldest->tree = NULL;
    }
}

bool lsp__scan_doc(lsp_t *s, lsp_doc_t *doc)
{
    TSTree *tree = NULL;
    span_t out;
    scan_diag_t *d;
    size_t n;
    st_err_t err = {0};
    char *name = doc->path != NULL ? walk_name(s, doc->path) : NULL;
    bool ok = false;

    if (s->scanner == NULL || s->arena == NULL)
        goto done;
    arena_reset(s->arena);
    if (scanner_run_incremental(s->scanner, &s->scan_opts, doc->kind,
                                (const uint8_t *)doc->buf.text, doc->buf.len, doc->tree, &tree,
                                s->arena, &out, &err) != ST_OK ||
        scan_result_diags(out, s->arena, &d, &n, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s: %s\n", doc->uri, err.msg);
        goto done;
    }
    ok = diags_copy(&doc->local, d, n, s, name);
done:
    if (doc->tree != NULL)
        ts_tree_delete(doc->tree);
    doc->tree = tree;
    doc->touched = ++s->tick;
    free(name);
    if (tree != NULL)
        forget_trees(s);
    return ok;
}

/* ---- $/progress --------------------------------------------------------------------- */

static void progress(lsp_t *s, const char *token, const char *kind, const char *text)
{
    json_t *v = json_pack("{s:s}", "kind", kind);

    if (strcmp(kind, "begin") == 0)
        json_object_set_new(v, "title", json_string("strata"));
    if (text != NULL)
        json_object_set_new(v, "message", json_string(text));
    lsp__notify(s, "$/progress", json_pack("{s:s,s:o}", "token", token, "value", v));
}

/* ---- the whole check ---------------------------------------------------------------- */

typedef struct {
    lsp_t *s;
    char **paths; /* published this time (walk names), in order */
    uint64_t *hashes;
    size_t n, cap;
} pub_t;

static uint64_t diags_hash(const scan_diag_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++) {
        const char *parts[2] = {d[i].code, d[i].message};
        h = (h ^ d[i].line) * 1099511628211ull;
        h = (h ^ d[i].col) * 1099511628211ull;
        for (int k = 0; k < 2; k++)
            for (const char *p = parts[k]; *p != '\0'; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    return h;
}

static lsp_doc_t *doc_of_name(lsp_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_docs; i++) {
        char *w = s->docs[i]->path != NULL ? walk_name(s, s->docs[i]->path) : NULL;
        bool same = w != NULL && strcmp(w, name) == 0;

        free(w);
        if (same)
            return s->docs[i];
    }
    return NULL;
}

/* doc's cross-module diagnostics: the report's less its own scan's; and
 * the scan's the report does not have (the check dropped them). */
static void set_xmod(lsp_doc_t *doc, const scan_diag_t *d, size_t n)
{
    bool *used = calloc(doc->local.n + 1, sizeof *used);
    scan_diag_t *rest = calloc(n + doc->local.n + 1, sizeof *rest);
    size_t k = 0;

    if (used == NULL || rest == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        bool mine = false;
        for (size_t j = 0; j < doc->local.n && !mine; j++) {
            const lsp_diag_t *l = &doc->local.items[j];
            if (!used[j] && l->line == d[i].line && l->col == d[i].col &&
                strcmp(l->code, d[i].code) == 0 && strcmp(l->message, d[i].message) == 0)
                mine = used[j] = true;
        }
        if (!mine)
            rest[k++] = d[i];
    }
    diags_copy(&doc->xmod, rest, k, NULL, NULL);
    k = 0;
    for (size_t j = 0; j < doc->local.n; j++)
        if (!used[j])
            rest[k++] = (scan_diag_t){doc->local.items[j].line, doc->local.items[j].col,
                                      doc->local.items[j].code, doc->local.items[j].message};
    diags_copy(&doc->dropped, rest, k, NULL, NULL);
out:
    free(used);
    free(rest);
}

/* A closed file's diagnostics, positions from its text on the disk. */
static void publish_file(lsp_t *s, const char *name, const scan_diag_t *d, size_t n)
{
    char *abs = abs_name(s, name), *uri = abs != NULL ? lsp__uri_of(abs) : NULL;
    uint8_t *text = NULL;
    size_t len = 0;
    lsp_diags_t l = {0};

    if (uri != NULL && n > 0 && file_read_all(abs, LSPDOC_MAX_BYTES, &text, &len))
        (void)0;
    if (uri != NULL && diags_copy(&l, d, n, NULL, NULL))
        lsp__notify(s, "textDocument/publishDiagnostics",
                    json_pack("{s:s,s:o}", "uri", uri, "diagnostics",
                              lsp__diag_array(s, text != NULL ? (const char *)text : "", len, &l,
                                              NULL, NULL)));
    lsp__diags_free(&l);
    st_free(text);
    free(abs);
    free(uri);
}

static bool pub_add(pub_t *p, const char *name, uint64_t h)
{
    if (p->n == p->cap) {
        size_t cap = p->cap != 0 ? p->cap * 2 : 64;
        char **v = realloc(p->paths, cap * sizeof *v);
        uint64_t *w = v != NULL ? realloc(p->hashes, cap * sizeof *w) : NULL;

        if (v != NULL)
            p->paths = v;
        if (w == NULL)
            return false;
        p->hashes = w;
        p->cap = cap;
    }
    if ((p->paths[p->n] = strdup(name)) == NULL)
        return false;
    p->hashes[p->n++] = h;
    return true;
}

/* The previous check's hash for name (the lists are sorted), or 0. */
static uint64_t old_hash(const lsp_t *s, const char *name, bool *found)
{
    size_t lo = 0, hi = s->n_pub;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->pub_paths[mid], name);
        if (c == 0) {
            *found = true;
            return s->pub_hashes[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return 0;
}

static st_rc_t on_file(void *ctx, const char *path, const scan_diag_t *d, size_t n, st_err_t *err)
{
    pub_t *p = ctx;
    lsp_doc_t *doc = doc_of_name(p->s, path);
    uint64_t h = diags_hash(d, n);
    bool found;

    (void)err;
    if (doc != NULL) {
        doc->reported = true;
        set_xmod(doc, d, n);
        return ST_OK;
    }
    if (old_hash(p->s, path, &found) != h || !found)
        publish_file(p->s, path, d, n);
    pub_add(p, path, h);
    return ST_OK;
}

/* Closed files that had diagnostics and have none now: cleared. */
static void clear_gone(lsp_t *s, pub_t *p)
{
    size_t j = 0;

    for (size_t i = 0; i < s->n_pub; i++) {
        while (j < p->n && strcmp(p->paths[j], s->pub_paths[i]) < 0)
            j++;
        if ((j >= p->n || strcmp(p->paths[j], s->pub_paths[i]) != 0) &&
            doc_of_name(s, s->pub_paths[i]) == NULL)
            publish_file(s, s->pub_paths[i], NULL, 0);
    }
    for (size_t i = 0; i < s->n_pub; i++)
        free(s->pub_paths[i]);
    free(s->pub_paths);
    free(s->pub_hashes);
    s->pub_paths = p->paths;
    s->pub_hashes = p->hashes;
    s->n_pub = p->n;
}

static bool walk(lsp_t *s)
{
    st_err_t err = {0};

    if (s->files_ok)
        return true;
    if (cli_files_gather(&s->cfg, s->conf, true, &s->files, &err) != ST_OK) {
        fprintf(stderr, "strata lsp: %s\n", err.msg);
        return false;
    }
    for (size_t i = 0; s->conf != NULL && i < s->files.list.n_files; i++)
        (void)config_lookup(s->conf, s->files.list.files[i].path, false, &err);
    s->files_ok = true;
    return true;
}

/* The run's files: the walk's, open buffers in place of their files. */
static run_file_t *run_files(lsp_t *s)
{
    const walk_list_t *w = &s->files.list;
    run_file_t *rf = calloc(w->n_files + 1, sizeof *rf);

    for (size_t i = 0; i < s->n_docs; i++)
        s->docs[i]->in_project = false;
    for (size_t i = 0; rf != NULL && i < w->n_files; i++) {
        lsp_doc_t *doc = doc_of_name(s, w->files[i].path);

        rf[i] = (run_file_t){.path = w->files[i].path,
                             .size = w->files[i].size,
                             .kind = scan_kind_of_path(w->files[i].path),
                             .context = w->files[i].context};
        if (doc != NULL) {
            rf[i].content = (const uint8_t *)(doc->buf.text != NULL ? doc->buf.text : "");
            rf[i].content_len = doc->buf.len;
            doc->in_project = true;
        }
    }
    return rf;
}

static bool run_all(lsp_t *s, run_file_t *rf, const char **paths, report_t *report)
{
    const walk_list_t *w = &s->files.list;
    lib_finder_t finder;
    const env_t *env = &s->prep.env;
    run_opts_t o = {
        .files = rf,
        .n_files = w->n_files,
        .paths = paths,
        .n_paths = w->n_files + w->n_extensions,
        .max_file_bytes = s->cfg.max_file_bytes,
        .jobs = s->cfg.jobs,
        .cache = s->prep.cache,
        .roots = s->cfg.roots,
        .n_roots = s->cfg.n_roots,
        .args = s->files.args,
        .n_args = s->files.n_args,
        .log = stderr,
        .cancel = s->cancel,
        .no_workers = s->cfg.no_workers,
        .workers = s->cfg.workers,
        .whole = true,
        .cost_dir = cas_dir_default(s->cfg.cache_dir),
        .stamped_since_ns = clock_wall_ms() * 1000000u,
        .shared_dir = prep_shared_dir(&s->cfg),
        .env_found = env->found,
        .python = env->python,
        .env_key = s->prep.env_key,
        .target = s->scan_opts.target,
    };
    run_t *run;
    st_err_t err = {0};
    bool ok;

    o.index_dir = cas_has_disk(s->prep.cache) ? o.cost_dir : NULL;
    if (s->prep.lf != NULL) {
        finder = libfind_finder(s->prep.lf);
        o.finder = &finder;
    }
    if ((run = run_new(&o, &err)) == NULL) {
        fprintf(stderr, "strata lsp: %s\n", err.msg);
        return false;
    }
    ok = run_scans(run, &err) == ST_OK && run_check(run, report, &err) == ST_OK;
    if (!ok && err.msg[0] != '\0')
        fprintf(stderr, "strata lsp: %s\n", err.msg);
    run_finish(run);
    run_destroy(&run);
    if (s->prep.cache != NULL && cas_flush(s->prep.cache, &err) != ST_OK)
        fprintf(stderr, "strata lsp: cache: %s; going on\n", err.msg);
    return ok;
}

static void check_now(lsp_t *s, const char *why);

void lsp__check_all(lsp_t *s, const char *why)
{
    if (s->q_len > 0) {
        s->check_pending = true;
        if (why != NULL)
            s->check_why = why;
        return;
    }
    check_now(s, why);
}

void lsp__check_flush(lsp_t *s)
{
    const char *why = s->check_why;

    if (!s->check_pending)
        return;
    s->check_pending = false;
    s->check_why = NULL;
    check_now(s, why);
}

static void check_now(lsp_t *s, const char *why)
{
    const char *token = "strata-index";
    const char **paths = NULL;
    run_file_t *rf = NULL;
    report_t *report = NULL;
    pub_t pub = {.s = s};
    st_err_t err = {0};
    bool show = why != NULL && s->progress_ok;

    if (!s->set_up || s->n_folders == 0 || !s->prep_ok)
        return;
    if (show) {
        lsp__request(s, "window/workDoneProgress/create", json_pack("{s:s}", "token", token));
        progress(s, token, "begin", why);
    }
    if (!walk(s))
        goto out;
    const walk_list_t *w = &s->files.list;
    if ((paths = st_calloc(w->n_files + w->n_extensions + 1, sizeof *paths)) == NULL ||
        (rf = run_files(s)) == NULL || (report = report_new(&s->cfg.rules)) == NULL)
        goto out;
    for (size_t i = 0; i < w->n_files; i++)
        paths[i] = w->files[i].path;
    for (size_t i = 0; i < w->n_extensions; i++)
        paths[w->n_files + i] = w->extensions[i].path;
    if (s->conf != NULL && config_any(s->conf))
        report_set_filter(report, config_enabled, s->conf);
    for (size_t i = 0; i < s->n_docs; i++)
        if (s->docs[i]->in_project) { /* the report will say all of it */
            lsp__diags_free(&s->docs[i]->xmod);
            s->docs[i]->reported = false;
        }
    if (!run_all(s, rf, paths, report))
        goto out;
    if (report_each(report, on_file, &pub, &err) != ST_OK)
        fprintf(stderr, "strata lsp: %s\n", err.msg);
    for (size_t i = 0; i < s->n_docs; i++)
        if (s->docs[i]->in_project && !s->docs[i]->reported)
            set_xmod(s->docs[i], NULL, 0); /* clean: every diagnostic of the scan dropped */
    clear_gone(s, &pub);
    memset(&pub, 0, sizeof pub);
    for (size_t i = 0; i < s->n_docs; i++)
        lsp__publish_doc(s, s->docs[i]);
out:
    for (size_t i = 0; i < pub.n; i++)
        free(pub.paths[i]);
    free(pub.paths);
    free(pub.hashes);
    report_destroy(&report);
    free(rf);
    st_free(paths);
    if (show)
        progress(s, token, "end", NULL);
}
