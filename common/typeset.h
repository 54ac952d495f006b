/* typeset.h - type sets: which classes a name's value may be an instance of.
 *
 * Inside a check job, a name's type is a set of types: the classes its value
 * may be an instance of, and whether it may be None, a module, a function, a
 * class object or something unknown. Sets are joined at every merge of
 * control flow and narrowed by tests, so these operations run for every name
 * at every merge. Most sets hold one or two types and a few hold many (a
 * parameter passed everything, a container's items), so a set has two forms
 * behind one API: up to TYPESET_SMALL_MAX ids kept sorted inside the struct,
 * which costs no allocation, and a bitvector over the job's dense numbering
 * of types, its words from the job's arena. Operations on two bitvectors run
 * in SIMD kernels picked once at run time (AVX-512, AVX2, SSE2, portable
 * scalar), as common/simd.h picks its text kernels; a test or a bench can
 * force a lower level and compare it with the scalar reference.
 *
 * Ids: the kinds that are not instances of a class are the lowest ids
 * (TYPESET_UNKNOWN...), so "may it be None" is one bit test in either form
 * and unions and intersections need no special case; class i of the job is
 * typeset_class_id(i). Ids below TYPESET_ID_LIMIT are accepted.
 *
 * Form: a set is small until an add or a union gives it more than
 * TYPESET_SMALL_MAX ids, or the caller asks for the bitvector form
 * (typeset_to_bits: over at most TYPESET_DENSE_UNIVERSE ids a bitvector is
 * one AVX2 register and about as fast as the small form, faster from 3
 * ids); it becomes small again when an intersection with a small set
 * leaves it a subset of that set, or on typeset_to_small. No operation's
 * result depends on the forms; only speed and memory do. Two bitvectors of
 * different lengths are compared as if the shorter were zero-extended.
 *
 * Ownership: a set lives wherever its caller puts it (a struct, the stack);
 * its bitvector's words belong to the arena passed to the call that made
 * them and are valid until that arena is reset. A set is not copied by
 * assignment (the copy would share the words): use typeset_copy.
 *
 * Threads: a set is used by one thread at a time, as its arena is. The
 * kernels and the level are thread-safe; typeset_force_level changes the
 * level for the whole process. */
#ifndef STRATA_TYPESET_H
#define STRATA_TYPESET_H

#include "common/arena.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ids of the kinds that are not instances of a class. 5..7 are reserved for
 * kinds to come; classes start at TYPESET_FIRST_CLASS. */
enum {
    TYPESET_UNKNOWN = 0,      /* anything: a fact with this part reports nothing */
    TYPESET_NONE = 1,         /* the None object */
    TYPESET_MODULE = 2,       /* a module object */
    TYPESET_FUNCTION = 3,     /* a function, method or other callable not a class */
    TYPESET_CLASS_OBJECT = 4, /* a class object itself, not an instance */
    TYPESET_FIRST_CLASS = 8
};

/* Ids are below this (2^24: 2^24 - 8 classes, a 2 MiB bitvector at most). */
#define TYPESET_ID_LIMIT (UINT32_C(1) << 24)

/* Ids the small form holds: 6, measured by bench/typeset_bench.c (see
 * docs/architecture.md, "Type sets"). A build may override it for the whole
 * program (-DTYPESET_SMALL_MAX=N in CMAKE_C_FLAGS) to measure another. */
#ifndef TYPESET_SMALL_MAX
#define TYPESET_SMALL_MAX 6
#endif

/* A universe this small is dense: a bitvector over it is 32 bytes at most,
 * as big as the struct, and bench/typeset_bench.c measured it faster
 * than the small form for sets of 3 ids or more and within 15% for 1 or 2,
 * so a job with no more ids may make every set a bitvector (typeset_to_bits)
 * and trade 32 bytes of arena per set for speed. Above it the small form
 * wins for 1 or 2 ids, by 5 to 12 times over 16384 ids. */
#define TYPESET_DENSE_UNIVERSE 256

/* The layout is public so that a set can live inside another struct or on
 * the stack with no allocation; the fields are not: read and change a set
 * only through the functions below. */
typedef struct {
    uint32_t n;     /* small form: ids in use */
    uint32_t words; /* 0: small form; else the bitvector's length in words */
    union {
        uint32_t ids[TYPESET_SMALL_MAX]; /* small form: sorted, distinct */
        uint64_t *bits;                  /* bitvector: bit id of word id / 64 */
    } u;
} typeset_t;

/* The id of the job's class class_index: class_index + TYPESET_FIRST_CLASS,
 * or UINT32_MAX (an id every function rejects or never finds) when that
 * would reach TYPESET_ID_LIMIT. */
static inline uint32_t typeset_class_id(uint32_t class_index)
{
    if (class_index >= TYPESET_ID_LIMIT - TYPESET_FIRST_CLASS)
        return UINT32_MAX;
    return class_index + TYPESET_FIRST_CLASS;
}

/* Makes self the empty set, small. Anything self held is forgotten (its
 * words stay in their arena). Accepts NULL. */
void typeset_init(typeset_t *self);

/* Adds id. a gives the words when self needs a bitvector or a longer one
 * (a may be NULL when it does not). ST_EINVAL: self NULL, or words needed
 * and a NULL; ST_ELIMIT: id >= TYPESET_ID_LIMIT; ST_ENOMEM: the arena is
 * exhausted. On failure self is unchanged. */
st_rc_t typeset_add(typeset_t *self, uint32_t id, arena_t *a);

/* Removes id (nothing when absent). Never allocates; the form is kept.
 * Accepts NULL and any id. */
void typeset_remove(typeset_t *self, uint32_t id);

/* True when id is in self. NULL is the empty set; any id is accepted. */
bool typeset_contains(const typeset_t *self, uint32_t id);

/* dst = dst | src. src NULL is the empty set; src may be dst. a as for
 * typeset_add. ST_EINVAL: dst NULL, or words needed and a NULL; ST_ENOMEM:
 * the arena is exhausted. On failure dst is unchanged. */
st_rc_t typeset_union_into(typeset_t *dst, const typeset_t *src, arena_t *a);

/* dst = dst & src. src NULL is the empty set; src may be dst. Never
 * allocates. ST_EINVAL: dst NULL. */
st_rc_t typeset_intersect_into(typeset_t *dst, const typeset_t *src);

/* True when every id of a is in b. NULL is the empty set. */
bool typeset_is_subset(const typeset_t *a, const typeset_t *b);

/* True when a and b hold the same ids, whatever their forms. NULL is the
 * empty set. */
bool typeset_equal(const typeset_t *a, const typeset_t *b);

/* The number of ids. NULL: 0. */
size_t typeset_count(const typeset_t *self);

/* True when self holds no id. NULL: true. */
bool typeset_is_empty(const typeset_t *self);

/* dst = a copy of src with words of its own (from a) when src is a
 * bitvector. src NULL is the empty set; src may be dst. ST_EINVAL: dst
 * NULL, or words needed and a NULL; ST_ENOMEM. On failure dst is
 * unchanged. */
st_rc_t typeset_copy(typeset_t *dst, const typeset_t *src, arena_t *a);

/* Puts self in the bitvector form with room for every id below universe
 * (and every id it holds), so that adding such ids or joining sets over
 * that universe never allocates again. Errors as typeset_union_into, and
 * ST_ELIMIT when universe > TYPESET_ID_LIMIT. */
st_rc_t typeset_to_bits(typeset_t *self, uint32_t universe, arena_t *a);

/* Puts self in the small form. ST_ELIMIT: it holds more than
 * TYPESET_SMALL_MAX ids (self unchanged); ST_EINVAL: self NULL. */
st_rc_t typeset_to_small(typeset_t *self);

/* True when self is in the small form (tests, benches). NULL: true. */
bool typeset_is_small(const typeset_t *self);

/* Ids in ascending order. The set must not change while it is iterated. */
typedef struct {
    const typeset_t *set;
    size_t pos;    /* small: the next index; bitvector: the word in hand */
    uint64_t word; /* bitvector: the bits of word pos not returned yet */
} typeset_iter_t;

/* Starts it at the smallest id of self (NULL: the empty set). */
void typeset_iterate(const typeset_t *self, typeset_iter_t *it);

/* Stores the next id in *id and returns true; false when there is none. */
bool typeset_next(typeset_iter_t *it, uint32_t *id);

/* ---- the kernels and their dispatch ---- */

typedef enum {
    TYPESET_SCALAR = 0,
    TYPESET_SSE2 = 1,
    TYPESET_AVX2 = 2,   /* AVX2 and POPCNT */
    TYPESET_AVX512 = 3, /* AVX-512 F and VPOPCNTDQ */
    TYPESET_LEVELS = 4
} typeset_level_t;

/* The best level this CPU (and OS) supports. */
typeset_level_t typeset_detect(void);

/* The level in use (typeset_detect() unless forced). */
typeset_level_t typeset_level(void);

/* Uses level from now on (tests, benches). ST_EINVAL when the CPU does not
 * support it or it is no level (the level in use is kept). */
st_rc_t typeset_force_level(typeset_level_t level);

/* "scalar", "sse2", "avx2", "avx512", or "?"; static. */
const char *typeset_level_name(typeset_level_t level);

/* Kernels over n words at the level in use; pointers may be NULL when n is
 * 0, dst and src may be the same array. */
void typeset_words_or(uint64_t *dst, const uint64_t *src, size_t n);            /* dst |= src */
void typeset_words_and(uint64_t *dst, const uint64_t *src, size_t n);           /* dst &= src */
bool typeset_words_andnot_zero(const uint64_t *a, const uint64_t *b, size_t n); /* a&~b == 0 */
size_t typeset_words_popcount(const uint64_t *a, size_t n);

/* Scalar references: the definition the other levels are tested against. */
void typeset_words_or_scalar(uint64_t *dst, const uint64_t *src, size_t n);
void typeset_words_and_scalar(uint64_t *dst, const uint64_t *src, size_t n);
bool typeset_words_andnot_zero_scalar(const uint64_t *a, const uint64_t *b, size_t n);
size_t typeset_words_popcount_scalar(const uint64_t *a, size_t n);

#endif
