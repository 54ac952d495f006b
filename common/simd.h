/* simd.h - SIMD kernels over source bytes, with runtime CPU dispatch.
 *
 * Every source file is checked for UTF-8 and indexed by line before it is
 * parsed, so these two passes run over every byte the analyzer sees and must
 * cost far less than the parse. Each kernel exists at three levels (portable
 * scalar, SSE2, AVX2); the best level the CPU supports is chosen on first use
 * (__builtin_cpu_supports), and a test can force a lower one to compare every
 * level with the scalar reference, which is exported for that purpose.
 *
 * All functions are thread-safe; simd_force_level changes the level for the
 * whole process. */
#ifndef STRATA_SIMD_H
#define STRATA_SIMD_H

#include "common/status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SIMD_SCALAR = 0, SIMD_SSE2 = 1, SIMD_AVX2 = 2 } simd_level_t;

/* The best level this CPU (and OS) supports. */
simd_level_t simd_detect(void);

/* The level in use (simd_detect() unless forced). */
simd_level_t simd_level(void);

/* Uses level from now on (tests, benches). ST_EINVAL when the CPU does not
 * support it (the level in use is kept). */
st_rc_t simd_force_level(simd_level_t level);

/* "scalar", "sse2", "avx2"; static. */
const char *simd_level_name(simd_level_t level);

/* The level state of a module with kernels chosen at run time (this one,
 * common/typeset): the level in use, found by detect on first use unless
 * a test or a bench forced one. Levels are the module's own, 0 the scalar
 * one. Initialise as {-1, detect}. */
typedef struct {
    _Atomic int level;   /* the level in use; -1 until the first use */
    int (*detect)(void); /* the best level this CPU (and OS) supports */
} simd_dispatch_t;

/* The level in use, detecting it on the first call. Thread-safe. */
int simd_dispatch_level(simd_dispatch_t *d);

/* Uses level from now on. ST_EINVAL when it is negative or above what
 * detect returns (the level in use is kept). Thread-safe. */
st_rc_t simd_dispatch_force(simd_dispatch_t *d, int level);

/* True when s[0..n) is strict UTF-8: no overlong forms, no surrogates
 * (U+D800..DFFF), nothing above U+10FFFF, no truncated sequence. When false
 * and bad_offset is not NULL, *bad_offset is the offset of the first byte of
 * the first invalid or truncated sequence (as the scalar reference reports
 * it); untouched when true. s may be NULL when n is 0. */
bool simd_utf8_valid(const uint8_t *s, size_t n, size_t *bad_offset);

/* Writes the offset at which each line of s[0..n) starts: out[0] = 0, then
 * the offset after every "\n", every "\r\n" and every "\r" not followed by
 * "\n" (Python's line ends), so a text ending in a line end has a last, empty
 * line starting at n. Returns the number of lines (>= 1); when that exceeds
 * out_cap only out_cap offsets are written (out may be NULL with out_cap 0).
 * Returns 0, writing nothing, when n > UINT32_MAX (offsets would not fit). */
size_t simd_line_starts(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap);

/* The number simd_line_starts would return (to size its array). */
size_t simd_count_lines(const uint8_t *s, size_t n);

/* Scalar references: the definition the other levels are tested against. */
bool simd_utf8_valid_scalar(const uint8_t *s, size_t n, size_t *bad_offset);
size_t simd_line_starts_scalar(const uint8_t *s, size_t n, uint32_t *out, size_t out_cap);

#endif
