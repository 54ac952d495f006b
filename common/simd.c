/* simd.c - UTF-8 validation and line-start indexing, scalar, SSE2 and AVX2.
 *
 * UTF-8: the AVX2 level is the lookup algorithm of Keiser and Lemire
 * ("Validating UTF-8 in less than one instruction per byte", 2021): three
 * 16-entry nibble tables classify each byte pair, a saturating subtraction
 * checks the 3rd and 4th bytes of long sequences, and 64 bytes of ASCII cost
 * one OR and one movemask. It only says whether a 64-byte step holds an error;
 * the scalar decoder then restarts from the last character boundary before
 * the step to report the exact offset, so every level reports what the
 * reference reports. SSE2 lacks a byte shuffle, so that level skips ASCII 16
 * bytes at a time and decodes other characters with the scalar decoder.
 *
 * Lines: 64 bytes become two 64-bit masks (LF, CR); a CR ends a line unless
 * the next byte, possibly in the next step, is LF; set bits are then emitted.
 *
 * Tails shorter than a step are copied into a zero-padded buffer, so vector
 * loads never read past the input (zero bytes are ASCII and not line ends). */
#include "simd.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SIMD_X86 1
#define AVX2_FN __attribute__((target("avx2,popcnt")))
#endif

typedef struct {
    bool (*utf8_valid)(const uint8_t *s, size_t n, size_t *bad_offset);
    size_t (*line_starts)(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap);
} kernels_t;

/* ---- scalar ---- */

/* Length of the valid sequence starting at s[i], or 0 when it is invalid or
 * truncated (Unicode table 3-7, well-formed byte sequences). */
static inline size_t utf8_seq_len(const uint8_t *s, size_t n, size_t i)
{
    uint8_t c = s[i], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0; /* continuation byte, or overlong 2-byte lead C0/C1 */
    if (c < 0xE0) {
        len = 2;
    } else if (c < 0xF0) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
        hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */
    } else if (c < 0xF5) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* overlong */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Validates s[from..n) (from at a character boundary). */
static bool utf8_from(const uint8_t *s, size_t n, size_t from, size_t *bad_offset)
{
    for (size_t i = from; i < n;) {
        size_t len = utf8_seq_len(s, n, i);
        if (len == 0) {
            if (bad_offset != NULL)
                *bad_offset = i;
            return false;
        }
        i += len;
    }
    return true;
}

bool simd_utf8_valid_scalar(const uint8_t *s, size_t n, size_t *bad_offset)
{
    return utf8_from(s, n, 0, bad_offset);
}

/* The scalar level: the reference with 8 ASCII bytes per step. */
static bool utf8_scalar(const uint8_t *s, size_t n, size_t *bad_offset)
{
    size_t i = 0;

    while (i < n) {
        uint64_t w;
        size_t len;
        if (n - i >= 8) {
            memcpy(&w, s + i, 8);
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                continue;
            }
        }
        if ((len = utf8_seq_len(s, n, i)) == 0) {
            if (bad_offset != NULL)
                *bad_offset = i;
            return false;
        }
        i += len;
    }
    return true;
}

/* Appends the line starts after each set bit of term (bit p: a line end at
 * base + p) to out[k..out_cap); returns the new count (which may pass
 * out_cap: the rest is counted, not written). */
static inline size_t emit(uint64_t term, size_t base, uint32_t *out, size_t out_cap, size_t k)
{
    size_t pop = (size_t)__builtin_popcountll(term);

    if (k >= out_cap)
        return k + pop;
    if (k + pop <= out_cap) {
        for (; term != 0; term &= term - 1)
            out[k++] = (uint32_t)(base + (size_t)__builtin_ctzll(term) + 1);
        return k;
    }
    for (; term != 0; term &= term - 1, k++)
        if (k < out_cap)
            out[k] = (uint32_t)(base + (size_t)__builtin_ctzll(term) + 1);
    return k;
}

/* Line ends among 64 bytes from LF and CR masks; next is the byte after. */
static inline uint64_t line_ends(uint64_t lf, uint64_t cr, bool next_is_lf)
{
    return lf | (cr & ~((lf >> 1) | ((uint64_t)next_is_lf << 63)));
}

size_t simd_line_starts_scalar(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap)
{
    size_t k = 1;

    if (n > UINT32_MAX)
        return 0;
    if (out_cap > 0)
        out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))) {
            if (k < out_cap)
                out[k] = (uint32_t)(i + 1);
            k++;
        }
    }
    return k;
}

static const kernels_t scalar_kernels = {utf8_scalar, simd_line_starts_scalar};

#ifdef SIMD_X86
/* ---- SSE2 ---- */

/* Offset of the first non-ASCII byte at or after i (n when none). */
static size_t skip_ascii_sse2(const uint8_t *s, size_t n, size_t i)
{
    for (; i + 16 <= n; i += 16) {
        int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + i)));
        if (m != 0)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

static bool utf8_sse2(const uint8_t *s, size_t n, size_t *bad_offset)
{
    size_t i = 0;

    for (;;) {
        i = skip_ascii_sse2(s, n, i);
        if (i >= n)
            return true;
        while (i < n && s[i] >= 0x80) { /* a run of non-ASCII characters */
            size_t len = utf8_seq_len(s, n, i);
            if (len == 0) {
                if (bad_offset != NULL)
                    *bad_offset = i;
                return false;
            }
            i += len;
        }
    }
}

static inline void masks_sse2(const uint8_t *p, uint64_t *lf, uint64_t *cr)
{
    const __m128i nl = _mm_set1_epi8('\n'), r = _mm_set1_epi8('\r');
    uint64_t l = 0, c = 0;

    for (int j = 0; j < 4; j++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * j));
        l |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * j);
        c |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, r)) << (16 * j);
    }
    *lf = l;
    *cr = c;
}

static size_t lines_sse2(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap)
{
    uint8_t pad[64];
    size_t i = 0, k = 1;
    uint64_t lf, cr;

    if (n > UINT32_MAX)
        return 0;
    if (out_cap > 0)
        out[0] = 0;
    for (; i + 64 <= n; i += 64) {
        masks_sse2(s + i, &lf, &cr);
        if ((lf | cr) != 0)
            k = emit(line_ends(lf, cr, i + 64 < n && s[i + 64] == '\n'), i, out, out_cap, k);
    }
    if (i < n) {
        memset(pad, 0, sizeof pad);
        memcpy(pad, s + i, n - i);
        masks_sse2(pad, &lf, &cr);
        k = emit(line_ends(lf, cr, false), i, out, out_cap, k);
    }
    return k;
}

/* ---- AVX2 ---- */

/* Error classes of a byte pair (Keiser-Lemire); the tables below map the
 * high and low nibble of the first byte and the high nibble of the second to
 * the classes they allow, and a pair is an error where all three agree. */
#define TOO_SHORT (1 << 0)      /* lead followed by a non-continuation */
#define TOO_LONG (1 << 1)       /* ASCII followed by a continuation */
#define OVERLONG_3 (1 << 2)     /* E0 80..9F */
#define TOO_LARGE (1 << 3)      /* F4 90..BF, F5..FF + continuation */
#define SURROGATE (1 << 4)      /* ED A0..BF */
#define OVERLONG_2 (1 << 5)     /* C0..C1 + continuation */
#define TOO_LARGE_1000 (1 << 6) /* F5..FF 80..8F */
#define OVERLONG_4 (1 << 6)     /* F0 80..8F */
#define TWO_CONTS (1 << 7)      /* continuation after continuation */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

static const uint8_t byte1_high[16] = {TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TOO_LONG,
                                       TWO_CONTS,
                                       TWO_CONTS,
                                       TWO_CONTS,
                                       TWO_CONTS,
                                       TOO_SHORT | OVERLONG_2,
                                       TOO_SHORT,
                                       TOO_SHORT | OVERLONG_3 | SURROGATE,
                                       TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};

static const uint8_t byte1_low[16] = {CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
                                      CARRY | OVERLONG_2,
                                      CARRY,
                                      CARRY,
                                      CARRY | TOO_LARGE,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000,
                                      CARRY | TOO_LARGE | TOO_LARGE_1000};

static const uint8_t byte2_high[16] = {TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 |
                                           TOO_LARGE_1000 | OVERLONG_4,
                                       TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
                                       TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                                       TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT,
                                       TOO_SHORT};

/* A block ending in these (or more) leaves a sequence open: ..F0, .E0, C0. */
static const uint8_t incomplete_max[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,      255,      255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0xF0 - 1, 0xE0 - 1, 0xC0 - 1};

typedef struct {
    __m256i err;        /* any bit set: an error so far */
    __m256i prev;       /* the previous 32 bytes */
    __m256i incomplete; /* nonzero: prev ends inside a sequence */
} utf8_state_t;

AVX2_FN static inline __m256i table16(const uint8_t t[16])
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

/* in shifted right by 1, 2, 3 bytes, with the end of prev shifted in. */
AVX2_FN static inline __m256i prev1(__m256i in, __m256i prev)
{
    return _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 15);
}

AVX2_FN static inline __m256i prev2(__m256i in, __m256i prev)
{
    return _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 14);
}

AVX2_FN static inline __m256i prev3(__m256i in, __m256i prev)
{
    return _mm256_alignr_epi8(in, _mm256_permute2x128_si256(prev, in, 0x21), 13);
}

AVX2_FN static inline __m256i high_nibble(__m256i v)
{
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

AVX2_FN static inline void utf8_block_avx2(utf8_state_t *st, __m256i in)
{
    __m256i p1 = prev1(in, st->prev);
    __m256i b1h = _mm256_shuffle_epi8(table16(byte1_high), high_nibble(p1));
    __m256i b1l =
        _mm256_shuffle_epi8(table16(byte1_low), _mm256_and_si256(p1, _mm256_set1_epi8(15)));
    __m256i b2h = _mm256_shuffle_epi8(table16(byte2_high), high_nibble(in));
    __m256i special = _mm256_and_si256(_mm256_and_si256(b1h, b1l), b2h);
    /* the 2nd/3rd continuation of a 3/4-byte sequence must be TWO_CONTS, and
     * only those may be */
    __m256i third = _mm256_subs_epu8(prev2(in, st->prev), _mm256_set1_epi8(0xE0 - 0x80));
    __m256i fourth = _mm256_subs_epu8(prev3(in, st->prev), _mm256_set1_epi8(0xF0 - 0x80));
    __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));

    st->err = _mm256_or_si256(st->err, _mm256_xor_si256(must23, special));
    st->incomplete = _mm256_subs_epu8(in, _mm256_loadu_si256((const __m256i *)incomplete_max));
    st->prev = in;
}

AVX2_FN static inline void utf8_step_avx2(utf8_state_t *st, const uint8_t *p)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));

    if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
        st->err = _mm256_or_si256(st->err, st->incomplete);
        st->incomplete = _mm256_setzero_si256();
        st->prev = b;
        return;
    }
    utf8_block_avx2(st, a);
    utf8_block_avx2(st, b);
}

/* The start of the character holding s[i-1]: everything before it was
 * found valid, so the scalar decoder can restart there. */
static size_t boundary_before(const uint8_t *s, size_t i)
{
    size_t j;

    if (i == 0)
        return 0;
    j = i - 1;
    for (int k = 0; k < 3 && j > 0 && (s[j] & 0xC0) == 0x80; k++)
        j--;
    return (s[j] & 0xC0) == 0x80 ? 0 : j;
}

AVX2_FN static bool utf8_avx2(const uint8_t *s, size_t n, size_t *bad_offset)
{
    utf8_state_t st = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    uint8_t pad[64];
    size_t i = 0;

    for (; i + 64 <= n; i += 64) {
        utf8_step_avx2(&st, s + i);
        if (!_mm256_testz_si256(st.err, st.err))
            return utf8_from(s, n, boundary_before(s, i), bad_offset);
    }
    if (i < n) {
        memset(pad, 0, sizeof pad);
        memcpy(pad, s + i, n - i);
        utf8_step_avx2(&st, pad);
    }
    st.err = _mm256_or_si256(st.err, st.incomplete);
    if (!_mm256_testz_si256(st.err, st.err))
        return utf8_from(s, n, boundary_before(s, i), bad_offset);
    return true;
}

AVX2_FN static inline void masks_avx2(const uint8_t *p, uint64_t *lf, uint64_t *cr)
{
    const __m256i nl = _mm256_set1_epi8('\n'), r = _mm256_set1_epi8('\r');
    __m256i a = _mm256_loadu_si256((const __m256i *)p);
    __m256i b = _mm256_loadu_si256((const __m256i *)(p + 32));

    *lf = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, nl)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, nl)) << 32;
    *cr = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, r)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, r)) << 32;
}

AVX2_FN static size_t lines_avx2(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap)
{
    uint8_t pad[64];
    size_t i = 0, k = 1;
    uint64_t lf, cr;

    if (n > UINT32_MAX)
        return 0;
    if (out_cap > 0)
        out[0] = 0;
    for (; i + 64 <= n; i += 64) {
        masks_avx2(s + i, &lf, &cr);
        if ((lf | cr) != 0)
            k = emit(line_ends(lf, cr, i + 64 < n && s[i + 64] == '\n'), i, out, out_cap, k);
    }
    if (i < n) {
        memset(pad, 0, sizeof pad);
        memcpy(pad, s + i, n - i);
        masks_avx2(pad, &lf, &cr);
        k = emit(line_ends(lf, cr, false), i, out, out_cap, k);
    }
    return k;
}

static const kernels_t sse2_kernels = {utf8_sse2, lines_sse2};
static const kernels_t avx2_kernels = {utf8_avx2, lines_avx2};
static const kernels_t *const by_level[] = {&scalar_kernels, &sse2_kernels, &avx2_kernels};
#else
static const kernels_t *const by_level[] = {&scalar_kernels};
#endif

/* ---- dispatch ---- */

int simd_dispatch_level(simd_dispatch_t *d)
{
    int level = atomic_load_explicit(&d->level, memory_order_relaxed);

    if (level < 0) {
        int expected = -1;
        atomic_compare_exchange_strong(&d->level, &expected, d->detect());
        level = atomic_load(&d->level);
    }
    return level;
}

st_rc_t simd_dispatch_force(simd_dispatch_t *d, int level)
{
    if (level < 0 || level > d->detect())
        return ST_EINVAL;
    atomic_store(&d->level, level);
    return ST_OK;
}

simd_level_t simd_detect(void)
{
#ifdef SIMD_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return SIMD_AVX2;
    if (__builtin_cpu_supports("sse2"))
        return SIMD_SSE2;
#endif
    return SIMD_SCALAR;
}

static int detect_level(void)
{
    return (int)simd_detect();
}

static simd_dispatch_t dispatch = {-1, detect_level};

simd_level_t simd_level(void)
{
    return (simd_level_t)simd_dispatch_level(&dispatch);
}

st_rc_t simd_force_level(simd_level_t level)
{
    return simd_dispatch_force(&dispatch, (int)level);
}

const char *simd_level_name(simd_level_t level)
{
    switch (level) {
    case SIMD_SCALAR:
        return "scalar";
    case SIMD_SSE2:
        return "sse2";
    case SIMD_AVX2:
        return "avx2";
    }
    return "?";
}

static inline const kernels_t *kernels(void)
{
    return by_level[simd_level()];
}

bool simd_utf8_valid(const uint8_t *s, size_t n, size_t *bad_offset)
{
    return kernels()->utf8_valid(s, n, bad_offset);
}

size_t simd_line_starts(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap)
{
    return kernels()->line_starts(s, n, out, out_cap);
}

size_t simd_count_lines(const uint8_t *s, size_t n)
{
    return kernels()->line_starts(s, n, NULL, 0);
}
