/* test_simd.c - every SIMD level against the scalar reference: random and
 * adversarial UTF-8 at every alignment around 16/32/64-byte blocks, line
 * ends at block edges, short output arrays; and the line index. */
#include "test.h"

#include "common/alloc.h"
#include "common/lineidx.h"
#include "common/simd.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Compares the UTF-8 kernel at the current level with the reference. */
static int utf8_agrees(const uint8_t *s, size_t n)
{
    size_t bad_ref = 7777, bad = 7777;
    bool ref = simd_utf8_valid_scalar(s, n, &bad_ref);
    bool got = simd_utf8_valid(s, n, &bad);
    return ref == got && bad == bad_ref;
}

/* Compares the line kernels at the current level with the reference. */
static int lines_agree(const uint8_t *s, size_t n)
{
    static uint32_t ref[4096], got[4096];
    size_t nr = simd_line_starts_scalar(s, n, ref, 4096);
    size_t ng = simd_line_starts(s, n, got, 4096);
    return nr == ng && nr <= 4096 && memcmp(ref, got, nr * sizeof ref[0]) == 0 &&
           simd_count_lines(s, n) == nr;
}

/* Runs body once per level the CPU supports, then restores the best. */
#define FOR_EACH_LEVEL(lv)                                                                         \
    for (int lv = 0; lv <= (int)simd_detect() && simd_force_level((simd_level_t)lv) == ST_OK; lv++)

/* Appends the UTF-8 encoding of code point cp. */
static size_t put_cp(uint8_t *p, uint32_t cp)
{
    if (cp < 0x80) {
        p[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (uint8_t)(0xC0 | cp >> 6);
        p[1] = (uint8_t)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (uint8_t)(0xE0 | cp >> 12);
        p[1] = (uint8_t)(0x80 | (cp >> 6 & 63));
        p[2] = (uint8_t)(0x80 | (cp & 63));
        return 3;
    }
    p[0] = (uint8_t)(0xF0 | cp >> 18);
    p[1] = (uint8_t)(0x80 | (cp >> 12 & 63));
    p[2] = (uint8_t)(0x80 | (cp >> 6 & 63));
    p[3] = (uint8_t)(0x80 | (cp & 63));
    return 4;
}

/* Random valid text of about n bytes with every sequence length. */
static size_t random_utf8(uint8_t *p, size_t n)
{
    size_t len = 0;
    while (len + 4 <= n) {
        uint32_t cp, kind = rnd() % 8;
        if (kind < 4)
            cp = rnd() % 0x80;
        else if (kind == 4)
            cp = 0x80 + rnd() % (0x800 - 0x80);
        else if (kind == 5)
            cp = 0x800 + rnd() % (0x10000 - 0x800);
        else
            cp = 0x10000 + rnd() % (0x110000 - 0x10000);
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 'x';
        len += put_cp(p + len, cp);
    }
    return len;
}

TEST(simd_levels)
{
    CHECK(simd_detect() >= SIMD_SCALAR);
    CHECK(simd_force_level((simd_level_t)(simd_detect() + 1)) == ST_EINVAL);
    CHECK(simd_force_level((simd_level_t)-1) == ST_EINVAL);
    CHECK(simd_level() == simd_detect());
    REQUIRE(simd_force_level(SIMD_SCALAR) == ST_OK);
    CHECK(simd_level() == SIMD_SCALAR);
    REQUIRE(simd_force_level(simd_detect()) == ST_OK);
    CHECK_STREQ(simd_level_name(SIMD_SCALAR), "scalar");
    CHECK_STREQ(simd_level_name(SIMD_SSE2), "sse2");
    CHECK_STREQ(simd_level_name(SIMD_AVX2), "avx2");
    CHECK_STREQ(simd_level_name((simd_level_t)9), "?");
#if defined(__x86_64__)
    CHECK(simd_detect() >= SIMD_SSE2);
#endif
}

TEST(simd_utf8_reference_cases)
{
    static const struct {
        const char *s;
        int ok;
        size_t bad;
    } cases[] = {
        {"", 1, 0},
        {"plain ascii", 1, 0},
        {"caf\xC3\xA9", 1, 0},
        {"\xE2\x82\xAC euro", 1, 0},
        {"\xF0\x9F\x98\x80", 1, 0},
        {"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\xED\x9F\xBF\xE0\xA0\x80\xF0\x90\x80\x80\xC2\x80", 1, 0},
        {"ab\x80", 0, 2},           /* stray continuation */
        {"ab\xC3", 0, 2},           /* truncated at end */
        {"ab\xC3(", 0, 2},          /* lead + ASCII */
        {"\xE2\x82", 0, 0},         /* truncated 3-byte */
        {"x\xF0\x9F\x98", 0, 1},    /* truncated 4-byte */
        {"\xC0\x80", 0, 0},         /* overlong NUL */
        {"\xC1\xBF", 0, 0},         /* overlong 2-byte */
        {"\xE0\x9F\xBF", 0, 0},     /* overlong 3-byte */
        {"\xF0\x8F\xBF\xBF", 0, 0}, /* overlong 4-byte */
        {"a\xED\xA0\x80", 0, 1},    /* surrogate U+D800 */
        {"\xED\xBF\xBF", 0, 0},     /* surrogate U+DFFF */
        {"\xF4\x90\x80\x80", 0, 0}, /* U+110000 */
        {"\xF5\x80\x80\x80", 0, 0}, /* lead F5 */
        {"\xFF", 0, 0},
        {"\xF0\x9F\x98\x80\x80", 0, 4},     /* one continuation too many */
        {"\xE2\x82\xAC\xE2\x28\xA1", 0, 3}, /* bad 2nd byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s), bad = 999;
        bool ok = simd_utf8_valid_scalar((const uint8_t *)cases[i].s, n, &bad);
        CHECK_EQ_INT(ok, cases[i].ok);
        if (!cases[i].ok)
            CHECK_EQ_INT(bad, cases[i].bad);
        else
            CHECK_EQ_INT(bad, 999);
        FOR_EACH_LEVEL(lv)
        {
            if (!utf8_agrees((const uint8_t *)cases[i].s, n)) {
                CHECK(!"level disagrees on a reference case");
                fprintf(stderr, "  case %zu level %d\n", i, lv);
            }
        }
    }
    CHECK(simd_utf8_valid(NULL, 0, NULL));
    simd_force_level(simd_detect());
}

/* Every bad (and some good) sequence at every offset 0..140 of buffers of
 * several lengths, filled with ASCII or with valid 2-byte characters. */
TEST(simd_utf8_adversarial_alignments)
{
    static const char *seqs[] = {"\xC3",
                                 "\xE2\x82",
                                 "\xF0\x9F\x98",
                                 "\xF0\x9F",
                                 "\xF0",
                                 "\xC0\x80",
                                 "\xC1\xBF",
                                 "\xE0\x80\x80",
                                 "\xE0\x9F\xBF",
                                 "\xF0\x80\x80\x80",
                                 "\xF0\x8F\xBF\xBF",
                                 "\xED\xA0\x80",
                                 "\xED\xBF\xBF",
                                 "\xF4\x90\x80\x80",
                                 "\xF5\x80\x80\x80",
                                 "\xF8\x88\x80\x80\x80",
                                 "\xFF",
                                 "\xFE",
                                 "\x80",
                                 "\xBF",
                                 "\x80\x80",
                                 "\xC3\xA9\x80",
                                 "\xE2\x82\xAC\x80",
                                 "\xF0\x9F\x98\x80\x80",
                                 "\xE2\x28\xA1",
                                 "\xC3\xA9",
                                 "\xE2\x82\xAC",
                                 "\xF0\x9F\x98\x80",
                                 "\xF4\x8F\xBF\xBF",
                                 "\xED\x9F\xBF",
                                 "\xEF\xBF\xBF",
                                 "\xE0\xA0\x80",
                                 "\xF0\x90\x80\x80"};
    static uint8_t buf[300];
    int disagree = 0;

    FOR_EACH_LEVEL(lv)
    {
        for (size_t q = 0; q < sizeof seqs / sizeof seqs[0]; q++) {
            size_t sl = strlen(seqs[q]);
            for (size_t off = 0; off <= 140; off++) {
                size_t lens[] = {off + sl, off + sl + 1, off + sl + 3, 64, 128, 160, 200};
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                    size_t n = lens[li];
                    if (n < off + sl || n > sizeof buf)
                        continue;
                    for (int fill = 0; fill < 2; fill++) {
                        for (size_t j = 0; j < n; j++)
                            buf[j] = fill == 0 ? (uint8_t)('a' + j % 26)
                                               : (uint8_t)(j % 2 == 0 ? 0xD0 : 0x96);
                        if (fill == 1 && off % 2 == 1)
                            buf[off - 1] = 'x'; /* keep the 2-byte pairs whole */
                        memcpy(buf + off, seqs[q], sl);
                        if (fill == 1 && (off + sl) % 2 == 1 && off + sl < n)
                            buf[off + sl] = 'y';
                        disagree += !utf8_agrees(buf, n);
                    }
                }
            }
        }
    }
    CHECK_EQ_INT(disagree, 0);
    simd_force_level(simd_detect());
}

TEST(simd_utf8_random)
{
    static uint8_t buf[6000];
    int disagree = 0, invalid = 0;

    FOR_EACH_LEVEL(lv)
    {
        rng_state = 12345;
        for (int iter = 0; iter < 3000; iter++) {
            size_t n = iter < 2000 ? (size_t)(iter % 201) : 200 + rnd() % 5000;
            int kind = iter % 3;
            if (kind == 0) { /* random bytes, mostly ASCII */
                for (size_t j = 0; j < n; j++)
                    buf[j] = (uint8_t)(rnd() % 8 == 0 ? rnd() : rnd() % 128);
            } else {
                n = random_utf8(buf, n);
                if (kind == 2 && n > 0) /* one mutated byte */
                    buf[rnd() % n] = (uint8_t)rnd();
            }
            disagree += !utf8_agrees(buf, n);
            invalid += !simd_utf8_valid_scalar(buf, n, NULL);
        }
    }
    CHECK_EQ_INT(disagree, 0);
    CHECK(invalid > 500);
    simd_force_level(simd_detect());
}

TEST(simd_lines_reference_cases)
{
    uint32_t out[16];
    size_t n;
    n = simd_line_starts_scalar((const uint8_t *)"", 0, out, 16);
    CHECK(n == 1 && out[0] == 0);
    n = simd_line_starts_scalar((const uint8_t *)"a\nb\r\nc\rd\n", 9, out, 16);
    CHECK_EQ_INT(n, 5);
    CHECK(out[0] == 0 && out[1] == 2 && out[2] == 5 && out[3] == 7 && out[4] == 9);
    n = simd_line_starts_scalar((const uint8_t *)"\r", 1, out, 16);
    CHECK(n == 2 && out[1] == 1);
    n = simd_line_starts_scalar((const uint8_t *)"\n\r\r\n", 4, out, 16);
    CHECK(n == 4 && out[1] == 1 && out[2] == 2 && out[3] == 4);
    FOR_EACH_LEVEL(lv)
    {
        CHECK(lines_agree((const uint8_t *)"a\nb\r\nc\rd\n", 9));
        CHECK(lines_agree((const uint8_t *)"\r", 1));
        CHECK(lines_agree(NULL, 0));
        /* too large: 0, nothing read or written */
        out[0] = 99;
        CHECK_EQ_INT(simd_line_starts((const uint8_t *)"x", (size_t)UINT32_MAX + 1, out, 16), 0);
        CHECK_EQ_INT(simd_count_lines((const uint8_t *)"x", (size_t)UINT32_MAX + 1), 0);
        CHECK_EQ_INT(out[0], 99);
    }
    simd_force_level(simd_detect());
}

TEST(simd_lines_block_edges)
{
    static const char *ends[] = {"\n", "\r", "\r\n", "\n\r", "\r\r", "\n\n", "\r\n\r\n"};
    static uint8_t buf[300];
    int disagree = 0;

    FOR_EACH_LEVEL(lv)
    {
        for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
            size_t el = strlen(ends[e]);
            for (size_t off = 0; off <= 140; off++) {
                for (size_t n = off + el; n <= off + el + 2; n++) {
                    memset(buf, 'a', n);
                    memcpy(buf + off, ends[e], el);
                    disagree += !lines_agree(buf, n);
                    buf[(off + 64) % n] = '\r'; /* a second one, a block later */
                    disagree += !lines_agree(buf, n);
                }
                memset(buf, 'a', 200);
                memcpy(buf + off, ends[e], el);
                disagree += !lines_agree(buf, 200);
            }
        }
    }
    CHECK_EQ_INT(disagree, 0);
    simd_force_level(simd_detect());
}

TEST(simd_lines_random_and_short_output)
{
    static uint8_t buf[5000];
    static uint32_t ref[5001], got[5001];
    int disagree = 0;

    FOR_EACH_LEVEL(lv)
    {
        rng_state = 777;
        for (int iter = 0; iter < 1500; iter++) {
            size_t n = iter < 1000 ? (size_t)(iter % 201) : rnd() % 5000, nr, cap;
            for (size_t j = 0; j < n; j++) {
                uint32_t r = rnd() % 16;
                buf[j] = r == 0 ? '\n' : r == 1 ? '\r' : (uint8_t)('a' + r);
            }
            disagree += !lines_agree(buf, n);
            /* a short array: the count is still right, only cap written */
            nr = simd_line_starts_scalar(buf, n, ref, 5001);
            cap = rnd() % (nr + 1);
            for (size_t j = 0; j < 5001; j++)
                got[j] = 0xDEADBEEF;
            disagree += simd_line_starts(buf, n, got, cap) != nr;
            disagree += memcmp(got, ref, cap * sizeof got[0]) != 0;
            disagree += got[cap] != 0xDEADBEEF;
        }
    }
    CHECK_EQ_INT(disagree, 0);
    simd_force_level(simd_detect());
}

/* Line and column the slow way. */
static void naive_pos(const uint8_t *s, uint32_t off, uint32_t *line, uint32_t *col)
{
    uint32_t l = 1, start = 0;
    for (uint32_t i = 0; i < off; i++)
        if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] != '\n')) {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = off - start;
}

TEST(lineidx_lookup_all_offsets)
{
    static const char text[] = "import os\r\nx = 1\rdef f():\n    return x\n\n# end";
    uint32_t n = (uint32_t)strlen(text), line, col, wl, wc;
    lineidx_t idx;
    arena_t *a = arena_new(0);
    REQUIRE(a != NULL);
    for (int mode = 0; mode < 2; mode++) {
        REQUIRE(lineidx_build(&idx, (const uint8_t *)text, n, mode ? a : NULL) == ST_OK);
        CHECK_EQ_INT(idx.count, 6);
        CHECK_EQ_INT(idx.len, n);
        for (uint32_t off = 0; off <= n; off++) {
            REQUIRE(lineidx_lookup(&idx, off, &line, &col) == ST_OK);
            naive_pos((const uint8_t *)text, off, &wl, &wc);
            CHECK(line == wl && col == wc);
        }
        line = col = 42;
        CHECK(lineidx_lookup(&idx, n + 1, &line, &col) == ST_EINVAL);
        CHECK(line == 42 && col == 42);
        lineidx_free(&idx);
        CHECK(idx.starts == NULL && idx.count == 0);
    }
    REQUIRE(lineidx_build(&idx, NULL, 0, NULL) == ST_OK);
    CHECK(lineidx_lookup(&idx, 0, &line, &col) == ST_OK && line == 1 && col == 0);
    lineidx_free(&idx);
    CHECK(lineidx_lookup(&idx, 0, &line, &col) == ST_EINVAL); /* freed: empty */
    arena_destroy(&a);
}

TEST(lineidx_errors)
{
    lineidx_t idx = {NULL, 7, 7, NULL};
    arena_t *a = arena_new(1024);
    REQUIRE(a != NULL);
    CHECK(lineidx_build(&idx, (const uint8_t *)"x", (size_t)UINT32_MAX + 1, NULL) == ST_ELIMIT);
    alloc_fail_after(0);
    CHECK(lineidx_build(&idx, (const uint8_t *)"a\nb", 3, NULL) == ST_ENOMEM);
    arena_set_limit(a, 512);
    CHECK(lineidx_build(&idx,
                        (const uint8_t *)"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                         "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                         "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                         "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                         "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                                         "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
                        145, a) == ST_ENOMEM);
    CHECK(idx.starts == NULL && idx.count == 7 && idx.len == 7);
    arena_destroy(&a);
}
