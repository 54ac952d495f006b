/* typeset_kernels.c - the bitvector kernels of type sets, scalar to AVX-512.
 *
 * Four kernels (OR, AND, AND-NOT-is-zero for subset tests, popcount) at four
 * levels, one table of function pointers per level, the best table the CPU
 * runs picked on first use; typeset_force_level picks a lower one so that
 * tests compare every level with the scalar reference and benches measure
 * each against it. The same pattern as common/simd.c, and its level state
 * (simd_dispatch_t), with levels of its own: AVX-512 is a level here (one
 * register holds a 512-id stretch of a set, and VPOPCNTDQ counts it), while
 * the text kernels stop at AVX2.
 *
 * The scalar level is kept scalar (the compiler is told not to vectorize
 * it), so that "x4 vs scalar" in the bench measures these kernels, not the
 * auto-vectorizer. AVX-512 handles a tail of fewer than 8 words with masked
 * loads and stores, which touch no word past the end; the other levels
 * finish it one word at a time. Loads are unaligned: words come from an
 * arena aligned to 16 bytes only. Equality is memcmp (libc's is already
 * vectorized) and emptiness an early-exit loop in typeset.c. */
#include "typeset.h"

#include "simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define TS_X86 1
#define SSE2_FN __attribute__((target("sse2")))
#define AVX2_FN __attribute__((target("avx2,popcnt")))
#define AVX512_FN __attribute__((target("avx512f,avx512vpopcntdq,popcnt")))
#define INLINE static inline __attribute__((always_inline))
#endif

#if defined(__clang__)
#define SCALAR_FN
#define SCALAR_LOOP _Pragma("clang loop vectorize(disable) interleave(disable)")
#elif defined(__GNUC__)
#define SCALAR_FN __attribute__((optimize("no-tree-vectorize")))
#define SCALAR_LOOP
#else
#define SCALAR_FN
#define SCALAR_LOOP
#endif

typedef struct {
    void (*or_words)(uint64_t *dst, const uint64_t *src, size_t n);
    void (*and_words)(uint64_t *dst, const uint64_t *src, size_t n);
    bool (*andnot_zero)(const uint64_t *a, const uint64_t *b, size_t n);
    size_t (*popcount)(const uint64_t *a, size_t n);
} kernels_t;

/* ---- scalar ---- */

SCALAR_FN void typeset_words_or_scalar(uint64_t *dst, const uint64_t *src, size_t n)
{
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++)
        dst[i] |= src[i];
}

SCALAR_FN void typeset_words_and_scalar(uint64_t *dst, const uint64_t *src, size_t n)
{
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++)
        dst[i] &= src[i];
}

SCALAR_FN bool typeset_words_andnot_zero_scalar(const uint64_t *a, const uint64_t *b, size_t n)
{
    SCALAR_LOOP
    for (size_t i = 0; i < n; i++)
        if ((a[i] & ~b[i]) != 0)
            return false;
    return true;
}

SCALAR_FN size_t typeset_words_popcount_scalar(const uint64_t *a, size_t n)
{
    size_t count = 0;

    SCALAR_LOOP
    for (size_t i = 0; i < n; i++)
        count += (size_t)__builtin_popcountll(a[i]);
    return count;
}

static const kernels_t scalar_kernels = {typeset_words_or_scalar, typeset_words_and_scalar,
                                         typeset_words_andnot_zero_scalar,
                                         typeset_words_popcount_scalar};

#ifdef TS_X86
/* ---- SSE2: two words a register ---- */

/* dst = dst | src (is_or) or dst & src: OR and AND are one loop, the
 * operation a constant once it is inlined into the two kernels. */
SSE2_FN INLINE void combine_sse2(uint64_t *dst, const uint64_t *src, size_t n, bool is_or)
{
    size_t i = 0;

    for (; i + 2 <= n; i += 2) {
        __m128i d = _mm_loadu_si128((const __m128i *)(dst + i));
        __m128i s = _mm_loadu_si128((const __m128i *)(src + i));
        _mm_storeu_si128((__m128i *)(dst + i), is_or ? _mm_or_si128(d, s) : _mm_and_si128(d, s));
    }
    if (i < n)
        dst[i] = is_or ? dst[i] | src[i] : dst[i] & src[i];
}

SSE2_FN static void or_sse2(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_sse2(dst, src, n, true);
}

SSE2_FN static void and_sse2(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_sse2(dst, src, n, false);
}

SSE2_FN static bool andnot_zero_sse2(const uint64_t *a, const uint64_t *b, size_t n)
{
    const __m128i zero = _mm_setzero_si128();
    size_t i = 0;

    for (; i + 2 <= n; i += 2) {
        __m128i va = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i rest = _mm_andnot_si128(vb, va);
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(rest, zero)) != 0xFFFF)
            return false;
    }
    return i == n || (a[i] & ~b[i]) == 0;
}

/* SSE2 has no popcount: the bit-slicing sum within each byte, then
 * PSADBW adds the bytes of each half into a 64-bit lane. */
SSE2_FN static size_t popcount_sse2(const uint64_t *a, size_t n)
{
    const __m128i m1 = _mm_set1_epi8(0x55), m2 = _mm_set1_epi8(0x33), m4 = _mm_set1_epi8(0x0F);
    __m128i acc = _mm_setzero_si128();
    uint64_t lanes[2];
    size_t i = 0, count;

    for (; i + 2 <= n; i += 2) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
        x = _mm_sub_epi8(x, _mm_and_si128(_mm_srli_epi64(x, 1), m1));
        x = _mm_add_epi8(_mm_and_si128(x, m2), _mm_and_si128(_mm_srli_epi64(x, 2), m2));
        x = _mm_and_si128(_mm_add_epi8(x, _mm_srli_epi64(x, 4)), m4);
        acc = _mm_add_epi64(acc, _mm_sad_epu8(x, _mm_setzero_si128()));
    }
    _mm_storeu_si128((__m128i *)lanes, acc);
    count = (size_t)(lanes[0] + lanes[1]);
    if (i < n)
        count += (size_t)__builtin_popcountll(a[i]);
    return count;
}

/* ---- AVX2: four words a register ---- */

AVX2_FN INLINE void combine_avx2(uint64_t *dst, const uint64_t *src, size_t n, bool is_or)
{
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        __m256i d = _mm256_loadu_si256((const __m256i *)(dst + i));
        __m256i s = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i),
                            is_or ? _mm256_or_si256(d, s) : _mm256_and_si256(d, s));
    }
    for (; i < n; i++)
        dst[i] = is_or ? dst[i] | src[i] : dst[i] & src[i];
}

AVX2_FN static void or_avx2(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_avx2(dst, src, n, true);
}

AVX2_FN static void and_avx2(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_avx2(dst, src, n, false);
}

AVX2_FN static bool andnot_zero_avx2(const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t i = 0;

    for (; i + 4 <= n; i += 4) {
        __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i vb = _mm256_loadu_si256((const __m256i *)(b + i));
        if (!_mm256_testc_si256(vb, va)) /* CF: (~vb & va) == 0 */
            return false;
    }
    for (; i < n; i++)
        if ((a[i] & ~b[i]) != 0)
            return false;
    return true;
}

/* Each nibble's count from a 16-entry table (PSHUFB), bytes summed into
 * 64-bit lanes by PSADBW (Mula, Kurz and Lemire, "Faster population counts
 * using AVX2 instructions", 2018). */
AVX2_FN static size_t popcount_avx2(const uint64_t *a, size_t n)
{
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1,
                                           2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i acc = _mm256_setzero_si256();
    uint64_t lanes[4];
    size_t i = 0, count;

    for (; i + 4 <= n; i += 4) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(x, low));
        __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
        acc =
            _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
    }
    _mm256_storeu_si256((__m256i *)lanes, acc);
    count = (size_t)(lanes[0] + lanes[1] + lanes[2] + lanes[3]);
    for (; i < n; i++)
        count += (size_t)__builtin_popcountll(a[i]);
    return count;
}

/* ---- AVX-512: eight words a register, the tail masked ---- */

AVX512_FN static inline __mmask8 tail_mask(size_t left)
{
    return (__mmask8)((1u << left) - 1u); /* left < 8 */
}

AVX512_FN INLINE void combine_avx512(uint64_t *dst, const uint64_t *src, size_t n, bool is_or)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m512i d = _mm512_loadu_si512((const void *)(dst + i));
        __m512i s = _mm512_loadu_si512((const void *)(src + i));
        _mm512_storeu_si512((void *)(dst + i),
                            is_or ? _mm512_or_si512(d, s) : _mm512_and_si512(d, s));
    }
    if (i < n) {
        __mmask8 m = tail_mask(n - i);
        __m512i d = _mm512_maskz_loadu_epi64(m, dst + i);
        __m512i s = _mm512_maskz_loadu_epi64(m, src + i);
        _mm512_mask_storeu_epi64(dst + i, m,
                                 is_or ? _mm512_or_si512(d, s) : _mm512_and_si512(d, s));
    }
}

AVX512_FN static void or_avx512(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_avx512(dst, src, n, true);
}

AVX512_FN static void and_avx512(uint64_t *dst, const uint64_t *src, size_t n)
{
    combine_avx512(dst, src, n, false);
}

AVX512_FN static bool andnot_zero_avx512(const uint64_t *a, const uint64_t *b, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        __m512i rest = _mm512_andnot_si512(_mm512_loadu_si512((const void *)(b + i)),
                                           _mm512_loadu_si512((const void *)(a + i)));
        if (_mm512_test_epi64_mask(rest, rest) != 0)
            return false;
    }
    if (i < n) {
        __mmask8 m = tail_mask(n - i);
        __m512i rest = _mm512_andnot_si512(_mm512_maskz_loadu_epi64(m, b + i),
                                           _mm512_maskz_loadu_epi64(m, a + i));
        return _mm512_test_epi64_mask(rest, rest) == 0;
    }
    return true;
}

AVX512_FN static size_t popcount_avx512(const uint64_t *a, size_t n)
{
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_loadu_si512((const void *)(a + i))));
    if (i < n)
        acc = _mm512_add_epi64(
            acc, _mm512_popcnt_epi64(_mm512_maskz_loadu_epi64(tail_mask(n - i), a + i)));
    return (size_t)_mm512_reduce_add_epi64(acc);
}

static const kernels_t sse2_kernels = {or_sse2, and_sse2, andnot_zero_sse2, popcount_sse2};
static const kernels_t avx2_kernels = {or_avx2, and_avx2, andnot_zero_avx2, popcount_avx2};
static const kernels_t avx512_kernels = {or_avx512, and_avx512, andnot_zero_avx512,
                                         popcount_avx512};
static const kernels_t *const by_level[TYPESET_LEVELS] = {&scalar_kernels, &sse2_kernels,
                                                          &avx2_kernels, &avx512_kernels};
#else
static const kernels_t *const by_level[TYPESET_LEVELS] = {&scalar_kernels, &scalar_kernels,
                                                          &scalar_kernels, &scalar_kernels};
#endif

/* ---- dispatch ---- */

typeset_level_t typeset_detect(void)
{
#ifdef TS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq"))
        return TYPESET_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return TYPESET_AVX2;
    if (__builtin_cpu_supports("sse2"))
        return TYPESET_SSE2;
#endif
    return TYPESET_SCALAR;
}

static int detect_level(void)
{
    return (int)typeset_detect();
}

static simd_dispatch_t dispatch = {-1, detect_level};

typeset_level_t typeset_level(void)
{
    return (typeset_level_t)simd_dispatch_level(&dispatch);
}

st_rc_t typeset_force_level(typeset_level_t level)
{
    return simd_dispatch_force(&dispatch, (int)level);
}

const char *typeset_level_name(typeset_level_t level)
{
    switch (level) {
    case TYPESET_SCALAR:
        return "scalar";
    case TYPESET_SSE2:
        return "sse2";
    case TYPESET_AVX2:
        return "avx2";
    case TYPESET_AVX512:
        return "avx512";
    case TYPESET_LEVELS:
        break;
    }
    return "?";
}

static inline const kernels_t *kernels(void)
{
    return by_level[typeset_level()];
}

void typeset_words_or(uint64_t *dst, const uint64_t *src, size_t n)
{
    kernels()->or_words(dst, src, n);
}

void typeset_words_and(uint64_t *dst, const uint64_t *src, size_t n)
{
    kernels()->and_words(dst, src, n);
}

bool typeset_words_andnot_zero(const uint64_t *a, const uint64_t *b, size_t n)
{
    return kernels()->andnot_zero(a, b, n);
}

size_t typeset_words_popcount(const uint64_t *a, size_t n)
{
    return kernels()->popcount(a, n);
}
