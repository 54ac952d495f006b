/* test_fuzz_regressions.c - every input that once crashed a fuzz target
 * (tests/fuzz/regressions/<target>/), replayed through the decoders that
 * target drives: each must now give a result or an error, never a crash (the
 * ASan/UBSan build catches what a release build would not). Where the
 * outcome is known for sure it is checked too (expected[] below). */
#include "test.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/cas/cas_record.h"
#include "run/project.h"
#include "run/report.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#define ARENA_LIMIT ((size_t)64 << 20)

/* The first result each regression gives, when it is certain. */
static const struct {
    const char *file; /* <target>/<name> */
    st_rc_t rc;
} expected[] = {
    /* a summary with a global_enum class and no "defs": its members are
     * the module's only definitions */
    {"check/global-enum-without-defs.bin", ST_OK},
};

static const char *regressions_dir(char *buf, size_t size)
{
    const char *roots[3] = {NULL, NULL, ".."};
    struct stat st;

#ifdef STRATA_SOURCE_DIR
    roots[0] = STRATA_SOURCE_DIR;
#endif
    roots[1] = getenv("STRATA_SOURCE_DIR");
    for (int i = 0; i < 3; i++) {
        if (roots[i] == NULL || roots[i][0] == '\0')
            continue;
        snprintf(buf, size, "%s/tests/fuzz/regressions", roots[i]);
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return buf;
    }
    return NULL;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n + 1)) != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    if (data != NULL)
        *len = (size_t)n;
    fclose(f);
    return data;
}

static st_rc_t replay_scan(span_t in, arena_t *a)
{
    static const scan_kind_t kinds[] = {SCAN_KIND_PY, SCAN_KIND_PYI, SCAN_KIND_INIT};
    scanner_t *sc = scanner_new();
    scan_opts_t opts = {0};
    st_rc_t first = ST_EINTERNAL;

    if (sc == NULL)
        return ST_ENOMEM;
    for (size_t k = 0; k < 3; k++) {
        span_t out;
        scan_diag_t *d;
        size_t n;
        st_err_t err = {0};
        st_rc_t rc = scanner_run(sc, &opts, kinds[k], in.ptr, in.len, a, &out, &err);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        if (k == 0)
            first = rc;
        if (rc == ST_OK)
            CHECK_EQ_INT(scan_result_diags(out, a, &d, &n, &err), ST_OK);
        arena_reset(a);
    }
    scanner_destroy(&sc);
    return first;
}

static st_rc_t replay_scan_result(span_t in, arena_t *a)
{
    scan_diag_t *d;
    size_t n;
    st_err_t err = {0};
    st_rc_t rc = scan_result_diags(in, a, &d, &n, &err);

    CHECK(rc == ST_OK || rc == ST_ECORRUPT);
    return rc;
}

static st_rc_t replay_check(span_t in, arena_t *a)
{
    span_t out;
    check_module_t *mods;
    size_t n;
    st_err_t err = {0};
    st_rc_t rc = check_run(in, a, &out, &err), rc2;

    CHECK(rc == ST_OK || rc == ST_ECORRUPT);
    if (rc == ST_OK)
        CHECK_EQ_INT(check_result_decode(out, a, &mods, &n, &err), ST_OK);
    arena_reset(a);
    rc2 = check_result_decode(in, a, &mods, &n, &err);
    CHECK(rc2 == ST_OK || rc2 == ST_ECORRUPT);
    return rc;
}

static st_rc_t replay_cas_record(span_t in, arena_t *a)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    digest_t key = {0};
    span_t v;
    st_err_t err = {0};
    st_rc_t rc;

    if (dctx == NULL)
        return ST_ENOMEM;
    if (in.len >= 44)
        memcpy(key.b, (const uint8_t *)in.ptr + 12, 32);
    rc = cas_record_decode(dctx, in.len > 5 ? ((const uint8_t *)in.ptr)[5] : 0, &key, in.ptr,
                           in.len, a, &v, &err);
    CHECK(rc == ST_OK || rc == ST_ENOENT || rc == ST_ECORRUPT || rc == ST_ENOMEM);
    ZSTD_freeDCtx(dctx);
    return rc;
}

/* As tests/fuzz/fuzz_project.c: the bytes are the scan result of a package
 * and of its module, beside a real scan of a module importing both. */
static st_rc_t replay_project(span_t in, arena_t *a)
{
    static const char *const paths[] = {"fz/pkg/__init__.py", "fz/pkg/mod.py", "fz/use.py"};
    static const char *const args[] = {"fz"};
    static const char use_src[] = "import pkg\nimport pkg.mod\nfrom pkg import f, g\nfrom "
                                  "pkg.mod import *\n\nf(1, 2, k=3)\npkg.mod.h()\npkg.x.y\n"
                                  "print(g, z)\n";
    static const report_rules_t rules = {0};
    project_t *p = project_new(paths, 3);
    report_t *r = report_new(&rules);
    scanner_t *sc = scanner_new();
    scan_opts_t sopts = {0};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    span_t results[3] = {in, in, {0}};
    size_t nd, nf;
    st_err_t err = {0};
    FILE *devnull = fopen("/dev/null", "w");
    st_rc_t rc = ST_ENOMEM;

    if (p != NULL && r != NULL && sc != NULL && devnull != NULL &&
        scanner_run(sc, &sopts, SCAN_KIND_PY, (const uint8_t *)use_src, strlen(use_src), a,
                    &results[2], &err) == ST_OK) {
        for (size_t i = 0; i < 3; i++) {
            exec_done_t done = {.id = i, .path = paths[i], .result = results[i]};
            scan_diag_t *d;
            size_t n;
            if (scan_result_diags(results[i], a, &d, &n, &err) == ST_OK) {
                done.diags = d;
                done.n_diags = n;
            }
            CHECK_EQ_INT(project_add_scan(p, &done, &err), ST_OK);
        }
        rc = project_check(p, &popts, r, NULL, &err);
        CHECK_EQ_INT(rc, ST_OK);
        CHECK_EQ_INT(report_write(r, REPORT_FORMAT_TEXT, devnull, &nd, &nf, &err), ST_OK);
    }
    if (devnull != NULL)
        fclose(devnull);
    scanner_destroy(&sc);
    project_destroy(&p);
    report_destroy(&r);
    return rc;
}

static const struct {
    const char *target;
    st_rc_t (*replay)(span_t in, arena_t *a);
} targets[] = {
    {"scan", replay_scan},       {"scan_result", replay_scan_result},
    {"check", replay_check},     {"cas_record", replay_cas_record},
    {"project", replay_project},
};

TEST(fuzz_regressions_replay_without_crash)
{
    char root[4096], dir[4200], path[4500], rel[512];
    const char *top = regressions_dir(root, sizeof root);
    arena_t *a = arena_new(0);
    size_t replayed = 0, matched = 0;

    REQUIRE(top != NULL && a != NULL);
    arena_set_limit(a, ARENA_LIMIT);
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        DIR *d;
        struct dirent *e;

        snprintf(dir, sizeof dir, "%s/%s", top, targets[t].target);
        if ((d = opendir(dir)) == NULL)
            continue;
        while ((e = readdir(d)) != NULL) {
            uint8_t *data;
            size_t len = 0;
            st_rc_t rc;

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            snprintf(rel, sizeof rel, "%s/%s", targets[t].target, e->d_name);
            data = read_all(path, &len);
            CHECK(data != NULL);
            if (data == NULL)
                continue;
            rc = targets[t].replay((span_t){.ptr = data, .len = len}, a);
            arena_reset(a);
            replayed++;
            for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++)
                if (strcmp(expected[k].file, rel) == 0) {
                    if (rc != expected[k].rc)
                        fprintf(stderr, "  %s: %d, expected %d\n", rel, rc, expected[k].rc);
                    CHECK_EQ_INT(rc, expected[k].rc);
                    matched++;
                }
            free(data);
        }
        closedir(d);
    }
    /* every expectation names a file that is there */
    CHECK_EQ_INT(matched, sizeof expected / sizeof expected[0]);
    CHECK(replayed >= matched);
    arena_destroy(&a);
}
