/* simd_bench.c - throughput of the SIMD kernels at every level the CPU has.
 *
 * The UTF-8 check and the line index run over every source byte, so their
 * speed on real Python matters: the main buffer is every .py file under
 * /usr/lib/python3.11 concatenated (mostly ASCII, some UTF-8), next to a
 * pure-ASCII buffer (the ASCII fast path) and a text that is mostly multibyte
 * characters (the full validation path). Each kernel is timed at each level
 * (best of several runs) and reported in MB/s and as a ratio to scalar
 * measured in the same run. Usage: simd_bench [dir] */
#include "common/metrics.h"
#include "common/simd.h"
#include "common/clock.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CORPUS (48u << 20)
#define SYNTH_SIZE (16u << 20)
#define RUNS 7

typedef struct {
    const char *name;
    uint8_t *data;
    size_t len;
} corpus_t;

static corpus_t corpus;

static int add_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    size_t len = strlen(path);
    FILE *f;

    (void)ftw;
    if (type != FTW_F || len < 3 || strcmp(path + len - 3, ".py") != 0)
        return 0;
    if (corpus.len + (size_t)st->st_size > MAX_CORPUS)
        return 1; /* enough */
    if ((f = fopen(path, "rb")) == NULL)
        return 0;
    corpus.len += fread(corpus.data + corpus.len, 1, (size_t)st->st_size, f);
    fclose(f);
    return 0;
}

/* Python-like ASCII: the corpus with every non-ASCII byte replaced. */
static void make_ascii(corpus_t *out, const corpus_t *src)
{
    out->name = "ascii";
    out->len = src->len;
    out->data = malloc(src->len + 1);
    for (size_t i = 0; out->data != NULL && i < src->len; i++)
        out->data[i] = src->data[i] < 0x80 ? src->data[i] : 'x';
}

/* Mostly 2- to 4-byte characters, with spaces and newlines. */
static void make_utf8(corpus_t *out)
{
    static const char *words[] = {"привет ", "мир\n",     "日本語の", "テキスト ",
                                  "😀🐍\n",    "ελληνικά ", "x = 1\n",  "é"};
    size_t len = 0;

    out->name = "utf8-heavy";
    out->data = malloc(SYNTH_SIZE + 32);
    for (unsigned i = 0; out->data != NULL && len < SYNTH_SIZE; i = i * 1103515245u + 12345u) {
        const char *w = words[(i >> 16) % 8];
        memcpy(out->data + len, w, strlen(w));
        len += strlen(w);
    }
    out->len = len;
}

/* Best time in ns of RUNS calls of the kernel (0: utf8, 1: line starts). */
static uint64_t time_kernel(int kernel, const corpus_t *c, uint32_t *lines)
{
    uint64_t best = UINT64_MAX;
    size_t sink = 0;

    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = clock_ns(), dt;
        if (kernel == 0)
            sink += simd_utf8_valid(c->data, c->len, NULL);
        else
            sink += simd_line_starts(c->data, c->len, lines, c->len + 1);
        dt = clock_ns() - t0;
        best = dt < best ? dt : best;
    }
    if (sink == 0)
        fprintf(stderr, "(no result)\n");
    return best;
}

static void bench_corpus(const corpus_t *c, uint32_t *lines)
{
    static const char *kernels[] = {"utf8_valid", "line_starts"};
    size_t bad = 0;
    bool ok;

    simd_force_level(SIMD_SCALAR);
    ok = simd_utf8_valid(c->data, c->len, &bad);
    printf("\n%s: %.1f MB, %zu lines, utf8 %s\n", c->name, (double)c->len / 1e6,
           simd_count_lines(c->data, c->len), ok ? "valid" : "INVALID");
    for (int k = 0; k < 2; k++) {
        double scalar_mbs = 0;
        for (int lv = 0; lv <= (int)simd_detect(); lv++) {
            uint64_t ns;
            double mbs;
            simd_force_level((simd_level_t)lv);
            ns = time_kernel(k, c, lines);
            mbs = (double)c->len / 1e6 / ((double)ns / 1e9);
            if (lv == 0)
                scalar_mbs = mbs;
            printf("  %-12s %-7s %9.0f MB/s  x%.2f vs scalar\n", kernels[k],
                   simd_level_name((simd_level_t)lv), mbs, mbs / scalar_mbs);
        }
    }
    simd_force_level(simd_detect());
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/lib/python3.11";
    corpus_t ascii, utf8;
    uint32_t *lines;

    corpus.name = "python3.11-stdlib";
    corpus.data = malloc(MAX_CORPUS);
    if (corpus.data == NULL || nftw(dir, add_file, 32, FTW_PHYS) < 0 || corpus.len == 0) {
        fprintf(stderr, "simd_bench: cannot read .py files under %s\n", dir);
        return 2;
    }
    make_ascii(&ascii, &corpus);
    make_utf8(&utf8);
    lines = malloc((MAX_CORPUS > SYNTH_SIZE + 32 ? MAX_CORPUS : SYNTH_SIZE + 32) * 4 + 4);
    if (ascii.data == NULL || utf8.data == NULL || lines == NULL) {
        fprintf(stderr, "simd_bench: out of memory\n");
        return 2;
    }
    printf("simd_bench: best of %d runs; CPU level %s\n", RUNS, simd_level_name(simd_detect()));
    bench_corpus(&corpus, lines);
    bench_corpus(&ascii, lines);
    bench_corpus(&utf8, lines);
    free(lines);
    free(corpus.data);
    free(ascii.data);
    free(utf8.data);
    return 0;
}
