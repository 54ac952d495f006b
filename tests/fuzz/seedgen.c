/* seedgen.c - writes the seeds of the fuzz targets that are documents made
 * by strata itself: scan results (scan_result, project), check job inputs
 * and results (check), and cache records (cas_record), all from real scans
 * of the small sources below. Usage: fuzz_seedgen CORPUS_DIR (the
 * directories <name>/ must exist). tests/fuzz/make_seeds.sh runs it.
 *
 * A check input is written as run/project_jobs.c writes one (check_input_*): each module's
 * summary unchanged, one [kind, abs] resolution per import (resolved here
 * against the modules of the set: project, a few stdlib names, else
 * unresolved), and the interfaces of the modules imported from outside,
 * taken from a first check job's result. */
#include "common/proto.h"
#include "common/proto_client.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/cas/cas.h"
#include "common/cas/cas_record.h"
#include "common/alloc.h"
#include "common/digest.h"
#include "worker/python/summary.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name; /* dotted module name */
    bool pkg;
    const char *src;
} mod_t;

/* Two small projects: a package re-exporting a function, a module using it
 * with wrong calls and missing names; and a cycle with a star import. */
static const mod_t set_a[] = {
    {"app", true, "from .core import run, Config\n__all__ = ['run', 'Config']\n"},
    {"app.core", false,
     "import os\nfrom typing import Optional\n\n\nclass Config:\n"
     "    def __init__(self, path, *, strict=False):\n        self.path = path\n\n\n"
     "def run(cfg, verbose=False, *args, **kw):\n    return os.path.join(cfg.path, 'x')\n"},
    {"main", false,
     "import app.core\nfrom app import run, missing\nimport nowhere\n\n"
     "app.core.run(1, 2, 3)\napp.core.nothing\nrun()\napp.core.Config('p', strict=True, "
     "bad=1)\ntry:\n    import fast\nexcept ImportError:\n    fast = None\n"},
};

static const mod_t set_b[] = {
    {"ring", true, "from ring.a import *\nfrom . import b\n"},
    {"ring.a", false,
     "from ring import b\n__all__ = ['f', 'g']\n\n\ndef f(x, /, y):\n    return b.h(x)\n\n\n"
     "def g(*, k):\n    pass\n"},
    {"ring.b", false,
     "import ring.a\nfrom __future__ import annotations\n\n\ndef h(v):\n"
     "    return ring.a.f(v, 1) + ring.a.g(k=2) + ring.a.zz\n\n\ndef __getattr__(n):\n"
     "    return n\n"},
};

static const char *const stdlib[] = {"os", "sys", "typing", "__future__"};

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "fuzz_seedgen: %s\n", what);
    exit(1);
}

static void write_file(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

/* The absolute module an import names, for module m. */
static void import_abs(const mod_t *m, uint64_t level, const char *mod, uint32_t mod_len, char *out,
                       size_t cap)
{
    char base[256];

    snprintf(base, sizeof base, "%s", level > 0 ? m->name : "");
    if (level > 0 && !m->pkg) {
        char *dot = strrchr(base, '.');
        *(dot != NULL ? dot : base) = '\0';
    }
    for (uint64_t l = 1; l < level; l++) {
        char *dot = strrchr(base, '.');
        *(dot != NULL ? dot : base) = '\0';
    }
    snprintf(out, cap, "%s%s%.*s", base, base[0] != '\0' && mod_len > 0 ? "." : "", (int)mod_len,
             mod);
}

/* Writes the "res" of module m: one [kind, abs] per import of its summary
 * (read by the summary's decoder). */
static void write_res(mpbuf_t *w, const mod_t *m, span_t summary, const mod_t *set, size_t n_set,
                      arena_t *a)
{
    sum_import_t *imps;
    uint32_t n;

    if (summary_decode_imports(summary, a, &imps, &n) != ST_OK)
        die("summary without imports");
    check_input_res(w, n);
    for (uint32_t i = 0; i < n; i++) {
        char abs[512];
        int rk = 3;

        import_abs(m, imps[i].level, imps[i].module.s, imps[i].module.len, abs, sizeof abs);
        for (size_t k = 0; k < n_set; k++)
            if (strcmp(set[k].name, abs) == 0)
                rk = 0;
        for (size_t k = 0; k < sizeof stdlib / sizeof stdlib[0]; k++)
            if (strcmp(stdlib[k], abs) == 0)
                rk = 1;
        if (imps[i].kind == SUM_FUTURE) {
            rk = 4;
            abs[0] = '\0';
        }
        check_input_resolved(w, (uint32_t)rk, abs);
    }
}

/* Whether module name is a direct submodule of package pkg. */
static bool is_sub(const char *name, const mod_t *pkg)
{
    size_t n = strlen(pkg->name);
    return pkg->pkg && strncmp(name, pkg->name, n) == 0 && name[n] == '.';
}

/* A check input for set[first..first+n) as the component, with the given
 * interfaces (already packed, sorted) of modules outside it, written as
 * run/project_jobs.c writes one (check_input_*). */
static void pack_input(buf_t *b, const mod_t *set, size_t n_set, size_t first, size_t n,
                       const span_t *results, const span_t *ifaces, size_t n_ifaces, arena_t *a)
{
    mpbuf_t w;

    mpbuf_init(&w, b);
    check_input_begin(&w, (uint32_t)n);
    for (size_t i = first; i < first + n; i++) {
        const mod_t *m = &set[i];
        span_t summary = scan_result_summary(results[i]);
        uint32_t n_subs = 0;

        for (size_t k = 0; k < n_set; k++)
            n_subs += is_sub(set[k].name, m);
        check_input_module(&w, &(check_input_module_t){.name = m->name,
                                                       .file = (uint32_t)i,
                                                       .pkg = m->pkg,
                                                       .export = true,
                                                       .n_subs = n_subs});
        for (size_t k = 0; k < n_set; k++)
            if (is_sub(set[k].name, m))
                check_input_sub(&w, set[k].name + strlen(m->name) + 1);
        if (summary.len == 0)
            die("no summary");
        check_input_summary(&w, summary);
        write_res(&w, m, summary, set, n_set, a);
    }
    check_input_ifaces(&w, (uint32_t)n_ifaces);
    for (size_t i = 0; i < n_ifaces; i++)
        check_input_iface(&w, ifaces[i]);
    if (mpbuf_status(&w) != ST_OK)
        die("out of memory");
}

static void seed_set(const char *dir, const char *tag, const mod_t *set, size_t n_set,
                     scanner_t *sc, arena_t *a, ZSTD_CCtx *cctx)
{
    span_t results[8];
    span_t ifaces[8];
    scan_opts_t opts = {0};
    st_err_t err = {0};
    char name[128];
    check_module_t *mods;
    size_t n_mods;

    for (size_t i = 0; i < n_set; i++) {
        scan_kind_t kind = set[i].pkg ? SCAN_KIND_INIT : SCAN_KIND_PY;
        uint8_t *rec;
        size_t rec_len;
        digest_t key;

        if (scanner_run(sc, &opts, kind, (const uint8_t *)set[i].src, strlen(set[i].src), a,
                        &results[i], &err) != ST_OK)
            die(err.msg);
        snprintf(name, sizeof name, "%s-%s.msgpack", tag, set[i].name);
        write_file(dir, "scan_result", name, results[i].ptr, results[i].len);
        write_file(dir, "project", name, results[i].ptr, results[i].len);
        /* a record of each: the cache stores scan results under their key */
        if (digest_sha256(set[i].src, strlen(set[i].src), &key) != ST_OK ||
            cas_record_encode(cctx, i % 2 == 0 ? 3 : -1, CAS_RESULTS, &key, results[i].ptr,
                              results[i].len, &rec, &rec_len) != ST_OK)
            die("cas_record_encode");
        snprintf(name, sizeof name, "%s-%s.rec", tag, set[i].name);
        write_file(dir, "cas_record", name, rec, rec_len);
        st_free(rec);
    }

    /* the whole set as one component */
    buf_t in;
    span_t out;
    buf_init(&in);
    pack_input(&in, set, n_set, 0, n_set, results, NULL, 0, a);
    snprintf(name, sizeof name, "%s-all.input", tag);
    write_file(dir, "check", name, in.data, in.len);
    if (check_run((span_t){.ptr = in.data, .len = in.len}, a, &out, &err) != ST_OK)
        die(err.msg);
    snprintf(name, sizeof name, "%s-all.result", tag);
    write_file(dir, "check", name, out.ptr, out.len);

    /* the last module alone, the others' interfaces given: the interfaces
     * come from a job over all but the last (sorted by name already) */
    buf_reset(&in);
    pack_input(&in, set, n_set, 0, n_set - 1, results, NULL, 0, a);
    if (check_run((span_t){.ptr = in.data, .len = in.len}, a, &out, &err) != ST_OK ||
        check_result_decode(out, a, &mods, &n_mods, &err) != ST_OK)
        die(err.msg);
    for (size_t i = 0; i < n_mods; i++)
        ifaces[i] = mods[i].iface;
    buf_reset(&in);
    pack_input(&in, set, n_set, n_set - 1, 1, results, ifaces, n_mods, a);
    snprintf(name, sizeof name, "%s-last.input", tag);
    write_file(dir, "check", name, in.data, in.len);
    if (check_run((span_t){.ptr = in.data, .len = in.len}, a, &out, &err) != ST_OK)
        die(err.msg);
    snprintf(name, sizeof name, "%s-last.result", tag);
    write_file(dir, "check", name, out.ptr, out.len);
    buf_free(&in);
}

/* One seed per wire message, made by the real encoders. */
static void seed_proto(const char *dir)
{
    static const uint8_t digest[32] = {1, 2, 3};
    buf_t b;
    proto_batch_t batch;
    char name[32];
    int k = 0;
    proto_hello_t hello = {.id = {"host:1", 6},
                           .host = {"host", 4},
                           .version = {"0.1.0+scan5", 11},
                           .cpu = {"avx2", 4},
                           .slots = 2,
                           .numa = 1};
    proto_file_t files[2] = {{.path = {"pkg/a.py", 8}, .kind = 0, .digest = digest, .size = 10},
                             {.path = {"pkg/_x.so", 9}, .kind = 3, .digest = NULL}};
    const char *roots[] = {"."}, *args[] = {"pkg"};
    uint32_t need[] = {0};
    proto_progress_t progress = {.scanned = 3, .checked = 1, .workers = 2};
    proto_stats_t stats = {.files = 2, .scanned = 1};
    static const uint8_t lib_digest[32] = {7};
    proto_env_t env = {.major = 3,
                       .minor = 11,
                       .platform = {"linux", 5},
                       .python = {"/usr/bin/python3", 16},
                       .key = {"3.11 linux\n", 11}};
    proto_str_t lookup[] = {{"os.path", 7}, {"os", 2}};
    proto_libmod_t libmods[] = {{.kind = PROTO_LIB_FILE,
                                 .path = {"/s/os/path.pyi", 14},
                                 .scan_kind = 1,
                                 .size = 9,
                                 .digest = lib_digest,
                                 .stdlib = true},
                                {.kind = 0}};
    bool stdlib[] = {true};
    proto_diag_t d = {.line = 1, .col = 1, .code = {"F401", 4}, .message = {"'os' unused", 11}};

#define SEED(call)                                                                                 \
    do {                                                                                           \
        buf_reset(&b);                                                                             \
        if ((call) != ST_OK)                                                                       \
            die("encoding a proto seed");                                                          \
        snprintf(name, sizeof name, "msg%02d", k++);                                               \
        write_file(dir, "proto", name, b.data, b.len);                                             \
    } while (0)
    buf_init(&b);
    SEED(proto_encode_hello(&b, &hello));
    SEED(proto_encode_heartbeat(&b));
    SEED(proto_encode_bye(&b, "stopping"));
    SEED(proto_encode_refused(&b, "another version", false));
    SEED((proto_batch_begin(&batch, &b, PROTO_JOBS) == ST_OK &&
          proto_batch_job(&batch, 7, 0, (span_t){.ptr = (const uint8_t *)"x", .len = 1}) == ST_OK)
             ? (proto_batch_end(&batch), ST_OK)
             : ST_EINTERNAL);
    SEED((proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK &&
          proto_batch_result(&batch, 7, PROTO_STATUS_ERROR,
                             (span_t){.ptr = (const uint8_t *)"bad", .len = 3}) == ST_OK)
             ? (proto_batch_end(&batch), ST_OK)
             : ST_EINTERNAL);
    SEED(proto_encode_submit(&b, files, 2, roots, 1, args, 1, 1 << 20, NULL));
    SEED(proto_encode_need(&b, need, 1));
    SEED(proto_encode_progress(&b, &progress));
    SEED((proto_upload_begin(&batch, &b) == ST_OK &&
          proto_upload_blob(&batch, 0, (span_t){.ptr = (const uint8_t *)"zz", .len = 2}, 10) ==
              ST_OK)
             ? (proto_batch_end(&batch), ST_OK)
             : ST_EINTERNAL);
    SEED((proto_done_begin(&batch, &b, 0, "", &stats) == ST_OK &&
          proto_done_file(&batch, 0, &d, 1) == ST_OK)
             ? (proto_batch_end(&batch), ST_OK)
             : ST_EINTERNAL);
    SEED(proto_encode_submit(&b, files, 2, roots, 1, args, 1, 1 << 20, &env));
    SEED(proto_encode_lookup(&b, lookup, 2, lookup, 1));
    SEED(proto_encode_libfiles(&b, libmods, 2, stdlib, 1));
#undef SEED
    buf_free(&b);
}

int main(int argc, char **argv)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();

    if (argc != 2)
        die("usage: fuzz_seedgen CORPUS_DIR");
    if (sc == NULL || a == NULL || cctx == NULL)
        die("out of memory");
    seed_set(argv[1], "a", set_a, sizeof set_a / sizeof set_a[0], sc, a, cctx);
    seed_set(argv[1], "b", set_b, sizeof set_b / sizeof set_b[0], sc, a, cctx);
    seed_proto(argv[1]);
    ZSTD_freeCCtx(cctx);
    arena_destroy(&a);
    scanner_destroy(&sc);
    return 0;
}
