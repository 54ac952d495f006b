/* test_fixtures.c - the scan against hand-reviewed fixtures.
 *
 * Each tests/data/py/NAME.py has NAME.expect beside it: one line per
 * diagnostic, `LINE:COL CODE MESSAGE`, sorted by (line, col, code, message)
 * as strata prints them. The expectations were checked against pyflakes 2.5
 * and Python's own semantics by hand, so a mismatch is a finding, not
 * something to regenerate. A fixture whose text holds the line
 * `# strata-known-bug: ...` records a bug not fixed yet: its .expect says
 * what is right, a mismatch is reported but tolerated, and a match fails so
 * that the fix rewords the marker (keeping line numbers).
 *
 * The scan is meant to be a pure function of its input bytes, so every
 * fixture is also scanned twice by one scanner and once by a fresh one, and
 * the result documents must be byte-identical. */
#include "test.h"

#include "common/arena.h"
#include "worker/python/scan.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#define KNOWN_BUG_MARK "# strata-known-bug:"
#define MAX_DIFF_LINES 40
#define MAX_LINES 4096

/* The fixture directory: the source tree from the build, from the
 * environment, or relative to a build directory or the source root. */
static const char *fixture_dir(char *buf, size_t size)
{
    const char *roots[4] = {NULL, NULL, "..", "."};
    struct stat st;

#ifdef STRATA_SOURCE_DIR
    roots[0] = STRATA_SOURCE_DIR;
#endif
    roots[1] = getenv("STRATA_SOURCE_DIR");
    for (int i = 0; i < 4; i++) {
        if (roots[i] == NULL || roots[i][0] == '\0')
            continue;
        snprintf(buf, size, "%s/tests/data/py", roots[i]);
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return buf;
    }
    return NULL;
}

/* Whole file, NUL-terminated; caller frees. NULL when unreadable. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            char *grown = realloc(data, cap + 65536);
            if (grown == NULL)
                break;
            data = grown;
            cap += 65536;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || data == NULL) {
        free(data);
        data = NULL;
    } else {
        data[n] = '\0';
        *len = n;
    }
    fclose(f);
    return data;
}

static int by_position(const void *pa, const void *pb)
{
    const scan_diag_t *a = pa, *b = pb;
    int c;

    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    if ((c = strcmp(a->code, b->code)) != 0)
        return c;
    return strcmp(a->message, b->message);
}

/* Scans src with s into a; on success *out is the result document. */
static bool scan(scanner_t *s, const char *name, const char *src, size_t len, arena_t *a,
                 span_t *out)
{
    scan_opts_t opts = {0};
    st_err_t err = {0};

    if (scanner_run(s, &opts, scan_kind_of_path(name), (const uint8_t *)src, len, a, out, &err) !=
        ST_OK) {
        fprintf(stderr, "  %s: scanner_run: %s\n", name, err.msg);
        return false;
    }
    return true;
}

/* The result's diagnostics as `LINE:COL CODE MESSAGE` lines, sorted;
 * caller frees. NULL when the document does not decode. */
static char *format_diags(const char *name, span_t result, arena_t *a)
{
    scan_diag_t *diags = NULL;
    size_t n = 0, size = 0;
    st_err_t err = {0};
    char *text = NULL;
    FILE *f;

    if (scan_result_diags(result, a, &diags, &n, &err) != ST_OK) {
        fprintf(stderr, "  %s: scan_result_diags: %s\n", name, err.msg);
        return NULL;
    }
    if (n > 1) /* diags may be NULL when there are none */
        qsort(diags, n, sizeof *diags, by_position);
    if ((f = open_memstream(&text, &size)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u:%u %s %s\n", diags[i].line, diags[i].col, diags[i].code, diags[i].message);
    fclose(f);
    return text;
}

/* Splits text into lines in place (the '\n' become NULs). */
static size_t split_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;

    while (*text != '\0' && n < max) {
        char *nl = strchr(text, '\n');
        lines[n++] = text;
        if (nl == NULL)
            break;
        *nl = '\0';
        text = nl + 1;
    }
    return n;
}

/* A unified-style line diff (longest common subsequence; fixtures are
 * small), the first MAX_DIFF_LINES changed lines only. */
static void print_diff(const char *name, char *want_text, char *got_text)
{
    static char *want[MAX_LINES], *got[MAX_LINES];
    size_t nw = split_lines(want_text, want, MAX_LINES);
    size_t ng = split_lines(got_text, got, MAX_LINES);
    size_t *lcs = calloc((nw + 1) * (ng + 1), sizeof *lcs);
    size_t i = 0, j = 0, shown = 0;

    fprintf(stderr, "  --- %s.expect\n  +++ strata %s.py\n", name, name);
    if (lcs == NULL)
        return;
    for (size_t x = nw; x-- > 0;)
        for (size_t y = ng; y-- > 0;) {
            size_t *cell = &lcs[x * (ng + 1) + y];
            if (strcmp(want[x], got[y]) == 0)
                *cell = lcs[(x + 1) * (ng + 1) + y + 1] + 1;
            else if (lcs[(x + 1) * (ng + 1) + y] >= lcs[x * (ng + 1) + y + 1])
                *cell = lcs[(x + 1) * (ng + 1) + y];
            else
                *cell = lcs[x * (ng + 1) + y + 1];
        }
    while ((i < nw || j < ng) && shown < MAX_DIFF_LINES) {
        if (i < nw && j < ng && strcmp(want[i], got[j]) == 0) {
            i++, j++;
        } else if (j == ng ||
                   (i < nw && lcs[(i + 1) * (ng + 1) + j] >= lcs[i * (ng + 1) + j + 1])) {
            fprintf(stderr, "  -%s\n", want[i++]);
            shown++;
        } else {
            fprintf(stderr, "  +%s\n", got[j++]);
            shown++;
        }
    }
    if (shown == MAX_DIFF_LINES)
        fprintf(stderr, "  ... (more differences)\n");
    free(lcs);
}

/* Scans one fixture and compares with its .expect. True when it passes
 * (for a known bug: when it still mismatches). */
static bool check_fixture(scanner_t *s, const char *dir, const char *name, arena_t *a)
{
    char path[1024];
    char *src = NULL, *want = NULL, *got = NULL;
    size_t len = 0, want_len = 0;
    span_t result;
    bool ok = false, known_bug;

    snprintf(path, sizeof path, "%s/%s.py", dir, name);
    if ((src = read_all(path, &len)) == NULL) {
        fprintf(stderr, "  %s: cannot read\n", path);
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s.expect", dir, name);
    if ((want = read_all(path, &want_len)) == NULL) {
        fprintf(stderr, "  %s: cannot read\n", path);
        goto done;
    }
    known_bug = strncmp(src, KNOWN_BUG_MARK, strlen(KNOWN_BUG_MARK)) == 0 ||
                strstr(src, "\n" KNOWN_BUG_MARK) != NULL;
    snprintf(path, sizeof path, "%s.py", name);
    if (!scan(s, path, src, len, a, &result) || (got = format_diags(name, result, a)) == NULL)
        goto done;
    if (strcmp(want, got) == 0) {
        ok = !known_bug;
        if (known_bug)
            fprintf(stderr,
                    "  %s: passes now; reword its \"%s\" line (e.g. \"# was a known bug:\")\n",
                    name, KNOWN_BUG_MARK);
    } else if (known_bug) {
        ok = true;
        fprintf(stderr, "  %s: known bug, still differs (tolerated)\n", name);
    } else {
        fprintf(stderr, "  fixture %s differs from %s.expect:\n", name, name);
        print_diff(name, want, got);
    }
done:
    free(src);
    free(want);
    free(got);
    return ok;
}

/* Fixture names (file names without ".py"), sorted; caller frees with
 * free_names. */
static size_t list_fixtures(const char *dir, char ***names_out)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    char **names;
    size_t count = 0;

    *names_out = NULL;
    if (n < 0)
        return 0;
    names = calloc((size_t)n + 1, sizeof *names);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(ents[i]->d_name);
        if (names != NULL && l > 3 && ents[i]->d_name[0] != '.' &&
            strcmp(ents[i]->d_name + l - 3, ".py") == 0)
            names[count++] = strndup(ents[i]->d_name, l - 3);
        free(ents[i]);
    }
    free(ents);
    *names_out = names;
    return count;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

TEST(scan_fixtures_match_expect)
{
    char buf[1024];
    const char *dir = fixture_dir(buf, sizeof buf);
    char **names = NULL;
    size_t n, failed = 0;
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);

    if (dir == NULL)
        fprintf(stderr, "  tests/data/py not found: set STRATA_SOURCE_DIR\n");
    REQUIRE(dir != NULL && s != NULL && a != NULL);
    n = list_fixtures(dir, &names);
    CHECK(n >= 40); /* a lost glob must not pass as "nothing failed" */
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL || !check_fixture(s, dir, names[i], a)) {
            fprintf(stderr, "  FAIL fixture %s\n", names[i] ? names[i] : "(oom)");
            failed++;
        }
        arena_reset(a);
    }
    CHECK_EQ_INT(failed, 0);
    free_names(names, n);
    arena_destroy(&a);
    scanner_destroy(&s);
}

/* Same bytes, same result: twice on one (reused) scanner, and on a fresh
 * one, each in its own arena so no result can alias another. */
static bool scan_is_pure(scanner_t *reused, const char *dir, const char *name)
{
    char path[1024];
    char *src;
    size_t len = 0;
    arena_t *a[3] = {arena_new(0), arena_new(0), arena_new(0)};
    scanner_t *fresh = scanner_new();
    span_t r[3];
    bool ok = false;

    snprintf(path, sizeof path, "%s/%s.py", dir, name);
    src = read_all(path, &len);
    snprintf(path, sizeof path, "%s.py", name);
    if (src != NULL && a[0] && a[1] && a[2] && fresh != NULL &&
        scan(reused, path, src, len, a[0], &r[0]) && scan(reused, path, src, len, a[1], &r[1]) &&
        scan(fresh, path, src, len, a[2], &r[2])) {
        ok = r[0].len == r[1].len && r[0].len == r[2].len &&
             memcmp(r[0].ptr, r[1].ptr, r[0].len) == 0 && memcmp(r[0].ptr, r[2].ptr, r[0].len) == 0;
        if (!ok)
            fprintf(stderr, "  fixture %s: result differs between scans (%zu, %zu, %zu bytes)\n",
                    name, r[0].len, r[1].len, r[2].len);
    }
    free(src);
    for (int i = 0; i < 3; i++)
        arena_destroy(&a[i]);
    scanner_destroy(&fresh);
    return ok;
}

TEST(scan_fixtures_pure)
{
    char buf[1024];
    const char *dir = fixture_dir(buf, sizeof buf);
    char **names = NULL;
    size_t n, failed = 0;
    scanner_t *s = scanner_new();
    arena_t *warm = arena_new(0);
    span_t ignored;

    REQUIRE(dir != NULL && s != NULL && warm != NULL);
    n = list_fixtures(dir, &names);
    CHECK(n >= 40);
    for (size_t i = 0; i < n; i++) {
        /* The scanner has just seen another file: state must not leak. */
        if (i > 0 && names[i - 1] != NULL) {
            char path[1024], *src;
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s.py", dir, names[i - 1]);
            if ((src = read_all(path, &len)) != NULL)
                (void)scan(s, "prev.py", src, len, warm, &ignored);
            free(src);
            arena_reset(warm);
        }
        if (names[i] == NULL || !scan_is_pure(s, dir, names[i])) {
            fprintf(stderr, "  FAIL fixture %s (purity)\n", names[i] ? names[i] : "(oom)");
            failed++;
        }
    }
    CHECK_EQ_INT(failed, 0);
    free_names(names, n);
    arena_destroy(&warm);
    scanner_destroy(&s);
}
