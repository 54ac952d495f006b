/* project_graph.c - what a project writes besides the report: its module
 * graph (strata graph, as JSON or Graphviz dot), and the --explain lines
 * of the scans (why each file was scanned, from the content recorded at
 * its last scan). Both only read the project. */
#include "run/project_int.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "run/report.h"
#include "scheduler/graph.h"
#include "scheduler/resolve.h"

#include <stdio.h>
#include <string.h>

/* ---- graph output ------------------------------------------------------------ */

static void json_str(FILE *out, const char *s)
{
    buf_t b;

    buf_init(&b);
    if (report_json_string(&b, s, strlen(s)) == ST_OK)
        fwrite(b.data, 1, b.len, out);
    else
        fputs("\"\"", out);
    buf_free(&b);
}

/* The distinct project modules module m's files import (sorted). */
static const uint32_t *module_imports(const project_t *p, uint32_t m, size_t *n)
{
    return graph_succ(p->graph, m, n);
}

static void write_json(const project_t *p, FILE *out)
{
    uint32_t n_comps = graph_n_comps(p->graph);

    fputs("{\"roots\":[", out);
    for (size_t r = 0; r < resolver_n_roots(p->res); r++) {
        if (r)
            fputc(',', out);
        json_str(out, resolver_root(p->res, r));
    }
    fputs("],\n\"modules\":[", out);
    for (uint32_t m = 0; m < p->n_mods; m++) {
        uint32_t file = resolver_module_file(p->res, m);
        size_t n;
        const uint32_t *imp = module_imports(p, m, &n);
        fputs(m ? ",\n {\"name\":" : "\n {\"name\":", out);
        json_str(out, resolver_module_name(p->res, m));
        fputs(",\"file\":", out);
        if (file == RES_NONE)
            fputs("null", out);
        else
            json_str(out, p->files[file].path);
        fprintf(out, ",\"package\":%s,\"component\":%u,\"imports\":[",
                resolver_module_is_package(p->res, m) ? "true" : "false",
                graph_comp_of(p->graph, m));
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            json_str(out, resolver_module_name(p->res, imp[k]));
        }
        fputs("]}", out);
    }
    fprintf(out, "],\n\"layers\":%u,\n\"components\":[", graph_n_layers(p->graph));
    for (uint32_t c = 0; c < n_comps; c++) {
        size_t n, nd;
        const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);
        const uint32_t *deps = graph_comp_deps(p->graph, c, &nd);
        fprintf(out, "%s {\"id\":%u,\"layer\":%u,\"priority\":%llu,\"modules\":[", c ? ",\n" : "\n",
                c, graph_layer(p->graph, c), (unsigned long long)graph_priority(p->graph, c));
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            json_str(out, resolver_module_name(p->res, nodes[k]));
        }
        fputs("],\"deps\":[", out);
        for (size_t k = 0; k < nd; k++)
            fprintf(out, "%s%u", k ? "," : "", deps[k]);
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

static void write_dot(const project_t *p, FILE *out)
{
    uint32_t n_comps = graph_n_comps(p->graph);

    fputs("digraph strata {\n  rankdir=LR;\n  node [shape=box];\n", out);
    for (uint32_t c = 0; c < n_comps; c++) {
        size_t n;
        const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);
        if (n > 1)
            fprintf(out, "  subgraph cluster_%u {\n    label=\"cycle %u (layer %u)\";\n", c, c,
                    graph_layer(p->graph, c));
        for (size_t k = 0; k < n; k++) {
            fputs(n > 1 ? "    " : "  ", out);
            json_str(out, resolver_module_name(p->res, nodes[k]));
            fputs(";\n", out);
        }
        if (n > 1)
            fputs("  }\n", out);
    }
    for (uint32_t m = 0; m < p->n_mods; m++) {
        size_t n;
        const uint32_t *imp = module_imports(p, m, &n);
        for (size_t k = 0; k < n; k++) {
            fputs("  ", out);
            json_str(out, resolver_module_name(p->res, m));
            fputs(" -> ", out);
            json_str(out, resolver_module_name(p->res, imp[k]));
            fputs(";\n", out);
        }
    }
    fputs("}\n", out);
}

st_rc_t project_write_graph(project_t *self, const project_opts_t *opts,
                            project_graph_format_t format, FILE *out, st_err_t *err)
{
    st_rc_t rc;

    if ((rc = project__build(self, opts, err)) != ST_OK)
        return rc;
    if (format == PROJECT_GRAPH_DOT)
        write_dot(self, out);
    else
        write_json(self, out);
    if (ferror(out))
        return st_fail(err, ST_EIO, "cannot write the graph");
    return ST_OK;
}

/* ---- scan explanations ------------------------------------------------------- */

/* The key of the record of the content a path had when it was last scanned. */
static st_rc_t scan_explain_key(const char *path, digest_t *key)
{
    static const char tag[] = "strata-explain-scan\0" PROJECT_CHECK_VERSION;

    return project__named_key(tag, sizeof tag, path, key);
}

st_rc_t project_explain_scans(project_t *self, cas_t *cache, FILE *out, st_err_t *err)
{
    arena_t *a;

    if (cache == NULL) {
        for (size_t i = 0; out != NULL && i < self->n; i++)
            if (self->files[i].have && self->files[i].scanned)
                fprintf(out, "explain: scan %s: no cache\n", self->files[i].path);
        return ST_OK;
    }
    if ((a = arena_new(4096)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->n; i++) {
        const pfile_t *f = &self->files[i];
        digest_t ek;
        span_t prev;
        st_err_t gerr = {0};

        if (!f->have || !f->scanned || !f->has_key || scan_explain_key(f->path, &ek) != ST_OK)
            continue;
        if (out != NULL) {
            const char *why = "no cache entry";
            if (cas_get(cache, CAS_RESULTS, &ek, a, &prev, &gerr) == ST_OK)
                why = prev.len == sizeof f->key.b && memcmp(prev.ptr, f->key.b, prev.len) == 0
                          ? "no cache entry (evicted, cleared or corrupt)"
                          : "new content";
            fprintf(out, "explain: scan %s: %s\n", f->path, why);
            arena_reset(a);
        }
        if (cas_put(cache, CAS_RESULTS, &ek, f->key.b, sizeof f->key.b, false, &gerr) != ST_OK) {
            arena_destroy(&a);
            return st_fail(err, gerr.code, "%s", gerr.msg);
        }
    }
    arena_destroy(&a);
    return ST_OK;
}
