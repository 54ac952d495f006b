/* fuzz.h - what the libFuzzer targets share: one arena per target, reset
 * for each input, with a cap so that a hostile input fails its decode with
 * ST_ENOMEM instead of taking the machine's memory; and an abort that
 * libFuzzer records as a crash when a property of the decoder fails.
 *
 * A target is tests/fuzz/fuzz_<name>.c defining LLVMFuzzerTestOneInput; its
 * seeds live in tests/fuzz/corpus/<name>/ (see tests/fuzz/CMakeLists.txt and
 * tests/fuzz/run.sh). */
#ifndef STRATA_FUZZ_H
#define STRATA_FUZZ_H

#include "common/arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The cap on the arena of one input: far above what an input of libFuzzer's
 * sizes needs, far below what makes the run swap. */
#define FUZZ_ARENA_LIMIT ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's arena, empty: created on first use and reset for each input
 * (kept across inputs, as a worker keeps its pooled arenas). */
static inline arena_t *fuzz_arena(void)
{
    static arena_t *a;

    if (a == NULL) {
        if ((a = arena_new(0)) == NULL)
            abort();
        arena_set_limit(a, FUZZ_ARENA_LIMIT);
    }
    arena_reset(a);
    return a;
}

/* A property of the decoder that must hold for every input. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* What a decoder may take from its arena for an input of len bytes: every
 * element it keeps stands for at least one input byte, so a few dozen
 * bytes of arena per input byte is generous; more means it sized something
 * from a count it did not check against the bytes. */
#define FUZZ_DECODE_BUDGET(len) ((size_t)(len)*64 + ((size_t)64 << 10))

#endif
