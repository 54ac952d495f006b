/* test_typeset.c - type sets against a plain reference, at every level.
 *
 * The reference is a byte per id. Random sets of many sizes over universes
 * at and around word and register boundaries (0, 1, 63..65, 255..257,
 * 511..513, large) are built in both forms and with bitvectors of different
 * lengths, and every operation is compared with the reference, on every
 * kernel level the CPU runs (the others are skipped and said so). The
 * kernels are also compared with their scalar reference directly, on every
 * length and alignment around a register, with guard words around the
 * output. Then promotion, the errors, and failed allocations leaving a set
 * as it was. */
#include "test.h"

#include "common/alloc.h"
#include "common/typeset.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t rnd(void)
{
    return (uint32_t)(rnd64() >> 11);
}

/* Forces level lv; false (and says so once per test) when the CPU cannot
 * run it. */
static bool use_level(int lv)
{
    if (lv > (int)typeset_detect()) {
        fprintf(stderr, "  typeset: level %s not supported by this CPU, skipped\n",
                typeset_level_name((typeset_level_t)lv));
        return false;
    }
    return typeset_force_level((typeset_level_t)lv) == ST_OK;
}

/* Runs the body once per level the CPU supports; the best level after. */
#define FOR_EACH_LEVEL(lv)                                                                         \
    for (int lv = 0; lv < (int)TYPESET_LEVELS; lv++)                                               \
        if (use_level(lv))

/* ---- the kernels against their scalar reference ---- */

static const size_t kernel_lens[] = {0,  1,   2,   3,   4,   5,   6,   7,   8,    9,   10, 11,
                                     12, 13,  15,  16,  17,  23,  24,  31,  32,   33,  63, 64,
                                     65, 100, 127, 128, 129, 255, 256, 257, 1000, 4099};

#define GUARD UINT64_C(0xA5A5A5A5DEADBEEF)

/* Random words: dense, sparse or empty, as sets are. */
static void fill_words(uint64_t *w, size_t n)
{
    uint32_t kind = rnd() % 3;

    for (size_t i = 0; i < n; i++)
        w[i] = kind == 0   ? rnd64()
               : kind == 1 ? (rnd() % 8 == 0 ? UINT64_C(1) << rnd() % 64 : 0)
                           : 0;
}

/* OR and AND at the current level on len words at offset off (in words,
 * so not always aligned to a register) of arrays with guard words. */
static int check_or_and(size_t len, size_t off)
{
    static uint64_t src[4200], got[4200], want[4200];
    int bad = 0;

    for (int op = 0; op < 2; op++) {
        for (size_t i = 0; i < len + off + 2; i++)
            got[i] = GUARD;
        fill_words(src + off, len);
        fill_words(got + off, len);
        memcpy(want, got, (len + off + 2) * sizeof got[0]);
        if (op == 0) {
            typeset_words_or(got + off, src + off, len);
            typeset_words_or_scalar(want + off, src + off, len);
        } else {
            typeset_words_and(got + off, src + off, len);
            typeset_words_and_scalar(want + off, src + off, len);
        }
        bad += memcmp(got, want, (len + off + 2) * sizeof got[0]) != 0;
        /* dst and src the same array */
        memcpy(want, got, (len + off + 2) * sizeof got[0]);
        if (op == 0)
            typeset_words_or(got + off, got + off, len);
        else
            typeset_words_and(got + off, got + off, len);
        bad += memcmp(got, want, (len + off + 2) * sizeof got[0]) != 0;
    }
    return bad;
}

/* AND-NOT-is-zero on a subset (true), then with one bit of a outside b
 * at each word in turn (false), and popcount against a naive count. */
static int check_subset_popcount(size_t len, size_t off)
{
    static uint64_t a[4200], b[4200];
    size_t naive = 0;
    int bad = 0;

    fill_words(a + off, len);
    for (size_t i = 0; i < len; i++) {
        b[off + i] = a[off + i] | (rnd() % 2 ? rnd64() : 0);
        naive += (size_t)__builtin_popcountll(a[off + i]);
    }
    bad += typeset_words_popcount(a + off, len) != naive;
    bad += typeset_words_popcount_scalar(a + off, len) != naive;
    bad += !typeset_words_andnot_zero(a + off, b + off, len);
    bad += !typeset_words_andnot_zero_scalar(a + off, b + off, len);
    for (size_t w = 0; w<len; w += len> 80 ? 1 + len / 37 : 1) {
        uint64_t save = b[off + w], bit = UINT64_C(1) << rnd() % 64;
        a[off + w] |= bit;
        b[off + w] &= ~bit;
        bad += typeset_words_andnot_zero(a + off, b + off, len);
        bad += typeset_words_andnot_zero_scalar(a + off, b + off, len);
        b[off + w] = save | bit;
    }
    return bad;
}

TEST(typeset_kernels_every_level)
{
    int bad = 0;

    FOR_EACH_LEVEL(lv)
    {
        rng_state = 4242 + (uint64_t)lv;
        for (size_t k = 0; k < sizeof kernel_lens / sizeof kernel_lens[0]; k++) {
            for (size_t off = 0; off < 4; off++) {
                for (int rep = 0; rep < 3; rep++) {
                    int b = check_or_and(kernel_lens[k], off) +
                            check_subset_popcount(kernel_lens[k], off);
                    if (b != 0)
                        fprintf(stderr, "  level %s, %zu words at +%zu: %d wrong\n",
                                typeset_level_name((typeset_level_t)lv), kernel_lens[k], off, b);
                    bad += b;
                }
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* n 0 with NULL arrays */
    FOR_EACH_LEVEL(lv)
    {
        typeset_words_or(NULL, NULL, 0);
        typeset_words_and(NULL, NULL, 0);
        CHECK(typeset_words_andnot_zero(NULL, NULL, 0));
        CHECK_EQ_INT(typeset_words_popcount(NULL, 0), 0);
    }
    typeset_force_level(typeset_detect());
}

TEST(typeset_levels)
{
    CHECK(typeset_force_level((typeset_level_t)(typeset_detect() + 1)) == ST_EINVAL ||
          typeset_detect() == TYPESET_AVX512);
    CHECK(typeset_force_level(TYPESET_LEVELS) == ST_EINVAL);
    CHECK(typeset_force_level((typeset_level_t)-1) == ST_EINVAL);
    CHECK(typeset_level() == typeset_detect());
    REQUIRE(typeset_force_level(TYPESET_SCALAR) == ST_OK);
    CHECK(typeset_level() == TYPESET_SCALAR);
    REQUIRE(typeset_force_level(typeset_detect()) == ST_OK);
    CHECK_STREQ(typeset_level_name(TYPESET_SCALAR), "scalar");
    CHECK_STREQ(typeset_level_name(TYPESET_SSE2), "sse2");
    CHECK_STREQ(typeset_level_name(TYPESET_AVX2), "avx2");
    CHECK_STREQ(typeset_level_name(TYPESET_AVX512), "avx512");
    CHECK_STREQ(typeset_level_name(TYPESET_LEVELS), "?");
#if defined(__x86_64__)
    CHECK(typeset_detect() >= TYPESET_SSE2);
#endif
}

/* ---- sets against the reference ---- */

typedef struct {
    uint8_t has[70000]; /* has[id]: id is in the set */
    uint32_t u;         /* ids are below u */
} ref_t;

static const uint32_t universes[] = {0,   1,   2,   7,   8,   9,   63,   64,   65,
                                     255, 256, 257, 511, 512, 513, 4096, 70000};

static size_t ref_count(const ref_t *r)
{
    size_t n = 0;

    for (uint32_t i = 0; i < r->u; i++)
        n += r->has[i];
    return n;
}

/* Compares every query of s with r; the number of disagreements. */
static int matches(const typeset_t *s, const ref_t *r)
{
    typeset_iter_t it;
    uint32_t id, prev = 0, seen = 0;
    size_t n = ref_count(r);
    int bad = 0;

    bad += typeset_count(s) != n;
    bad += typeset_is_empty(s) != (n == 0);
    typeset_iterate(s, &it);
    while (typeset_next(&it, &id)) {
        bad += id >= r->u || !r->has[id] || (seen > 0 && id <= prev);
        prev = id;
        seen++;
        if (seen > r->u)
            return bad + 1;
    }
    bad += seen != n;
    bad += typeset_next(&it, &id); /* stays at the end */
    for (uint32_t i = 0; i < r->u + 70 && i<70000; i += r->u> 5000 ? 1 + rnd() % 97 : 1)
        bad += typeset_contains(s, i) != (i < r->u && r->has[i]);
    bad += typeset_contains(s, UINT32_MAX);
    bad += typeset_contains(s, TYPESET_ID_LIMIT);
    return bad;
}

/* A random set of about k ids below r->u (k 0..u; dense when k > u/4),
 * into s built in form form: 0 by adds (small while it fits), 1 as a
 * bitvector for the whole universe, 2 as a bitvector asked for a smaller
 * universe (so it grows), 3 a bitvector for a larger one (longer words). */
static int random_set(typeset_t *s, ref_t *r, uint32_t u, size_t k, int form, arena_t *a)
{
    uint32_t universe = form == 1 ? u : form == 2 ? u / 3 : u + 64 + rnd() % 600;
    int bad = 0;

    memset(r->has, 0, u);
    r->u = u;
    typeset_init(s);
    if (form != 0)
        bad += typeset_to_bits(s, universe, a) != ST_OK;
    if (u == 0)
        return bad;
    if (k > u / 4) {
        for (uint32_t i = 0; i < u; i++)
            r->has[i] = rnd() % (uint32_t)(u / k + 1) == 0 || k == u;
    } else {
        for (size_t j = 0; j < k; j++)
            r->has[rnd() % u] = 1;
    }
    for (uint32_t i = 0; i < u; i++)
        if (r->has[i])
            bad += typeset_add(s, i, a) != ST_OK;
    return bad;
}

static size_t pick_size(uint32_t u)
{
    static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 40};
    uint32_t r = rnd() % 16;

    if (r < 12)
        return sizes[r] < u ? sizes[r] : u;
    return r == 15 ? u : u / 2;
}

/* All operations on one pair, against the reference. */
static int check_pair(const typeset_t *x, const ref_t *rx, const typeset_t *y, const ref_t *ry,
                      arena_t *a)
{
    static ref_t want;
    typeset_t t, t2;
    bool sub = true, eq = true;
    int bad = 0;

    want.u = rx->u > ry->u ? rx->u : ry->u;
    for (uint32_t i = 0; i < want.u; i++) {
        bool in_x = i < rx->u && rx->has[i], in_y = i < ry->u && ry->has[i];
        want.has[i] = in_x | in_y;
        sub = sub && (!in_x || in_y);
        eq = eq && in_x == in_y;
    }
    bad += typeset_copy(&t, x, a) != ST_OK;
    bad += typeset_union_into(&t, y, a) != ST_OK;
    bad += matches(&t, &want);
    bad += !typeset_is_subset(x, &t) + !typeset_is_subset(y, &t);
    bad += typeset_copy(&t2, &t, a) != ST_OK;
    bad += typeset_intersect_into(&t2, x) != ST_OK; /* (x | y) & x == x */
    bad += !typeset_equal(&t2, x) + !typeset_equal(x, &t2);
    for (uint32_t i = 0; i < want.u; i++)
        want.has[i] = i < rx->u && rx->has[i] && i < ry->u && ry->has[i];
    bad += typeset_copy(&t, x, a) != ST_OK;
    bad += typeset_intersect_into(&t, y) != ST_OK;
    bad += matches(&t, &want);
    bad += typeset_is_subset(x, y) != sub;
    bad += typeset_equal(x, y) != eq || typeset_equal(y, x) != eq;
    return bad;
}

TEST(typeset_random_against_reference)
{
    static ref_t rx, ry;
    typeset_t x, y;
    arena_t *a = arena_new(0);
    int bad = 0, runs = 0;

    REQUIRE(a != NULL);
    FOR_EACH_LEVEL(lv)
    {
        rng_state = 99 + (uint64_t)lv;
        for (size_t ui = 0; ui < sizeof universes / sizeof universes[0]; ui++) {
            uint32_t u = universes[ui];
            int reps = u > 5000 ? 6 : 60;
            for (int rep = 0; rep < reps; rep++) {
                uint32_t u2 = rep % 3 == 0 ? universes[rnd() % (ui + 1)] : u;
                int fx = rep % 4, fy = (rep / 4) % 4;
                bad += random_set(&x, &rx, u, pick_size(u), fx, a);
                bad += random_set(&y, &ry, u2, pick_size(u2), fy, a);
                bad += matches(&x, &rx) + matches(&y, &ry);
                bad += check_pair(&x, &rx, &y, &ry, a) + check_pair(&y, &ry, &x, &rx, a);
                bad += check_pair(&x, &rx, &x, &rx, a);
                if (bad != 0 && runs >= 0) {
                    fprintf(stderr, "  level %s u %u/%u forms %d/%d: first wrong\n",
                            typeset_level_name((typeset_level_t)lv), u, u2, fx, fy);
                    runs = -1000000;
                }
                runs++;
                arena_reset(a);
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    typeset_force_level(typeset_detect());
    arena_destroy(&a);
}

/* The same ids in both forms answer everything alike. */
TEST(typeset_forms_equivalent)
{
    static ref_t r;
    typeset_t s, b;
    arena_t *a = arena_new(0);
    int bad = 0;

    REQUIRE(a != NULL);
    FOR_EACH_LEVEL(lv)
    {
        rng_state = 7 + (uint64_t)lv;
        for (int rep = 0; rep < 400; rep++) {
            uint32_t u = universes[rnd() % (sizeof universes / sizeof universes[0])];
            size_t k = rnd() % (TYPESET_SMALL_MAX + 1);
            bad += random_set(&s, &r, u, k < u ? k : u, 0, a);
            if (!typeset_is_small(&s))
                continue; /* k ids but fewer distinct: always small */
            bad += typeset_copy(&b, &s, a) != ST_OK;
            bad += typeset_to_bits(&b, u, a) != ST_OK;
            bad += typeset_is_small(&b);
            bad += matches(&b, &r) + matches(&s, &r);
            bad += !typeset_equal(&s, &b) + !typeset_equal(&b, &s);
            bad += !typeset_is_subset(&s, &b) + !typeset_is_subset(&b, &s);
            bad += typeset_to_small(&b) != ST_OK;
            bad += !typeset_is_small(&b) + !typeset_equal(&s, &b);
            bad += matches(&b, &r);
            arena_reset(a);
        }
    }
    CHECK_EQ_INT(bad, 0);
    typeset_force_level(typeset_detect());
    arena_destroy(&a);
}

TEST(typeset_promotion_and_back)
{
    typeset_t s, t, u;
    arena_t *a = arena_new(0);
    uint32_t id;

    REQUIRE(a != NULL);
    typeset_init(&s);
    CHECK(typeset_is_small(&s) && typeset_is_empty(&s));
    for (uint32_t i = 0; i < TYPESET_SMALL_MAX; i++)
        CHECK(typeset_add(&s, typeset_class_id(100 - i * 7), a) == ST_OK);
    CHECK(typeset_add(&s, typeset_class_id(100), a) == ST_OK); /* already in */
    CHECK(typeset_is_small(&s));
    CHECK_EQ_INT(typeset_count(&s), TYPESET_SMALL_MAX);
    CHECK(typeset_copy(&t, &s, NULL) == ST_OK); /* small: no words */
    CHECK(typeset_add(&s, TYPESET_NONE, a) == ST_OK);
    CHECK(!typeset_is_small(&s));
    CHECK_EQ_INT(typeset_count(&s), TYPESET_SMALL_MAX + 1);
    CHECK(typeset_contains(&s, TYPESET_NONE) && !typeset_contains(&s, TYPESET_UNKNOWN));
    CHECK(typeset_to_small(&s) == ST_ELIMIT && !typeset_is_small(&s));
    typeset_remove(&s, TYPESET_NONE);
    typeset_remove(&s, 5000); /* past the words: nothing */
    CHECK(typeset_to_small(&s) == ST_OK && typeset_is_small(&s));
    CHECK(typeset_equal(&s, &t));
    /* small | small past the limit: a bitvector */
    typeset_init(&u);
    CHECK(typeset_add(&u, TYPESET_MODULE, a) == ST_OK);
    CHECK(typeset_union_into(&u, &t, a) == ST_OK);
    CHECK(!typeset_is_small(&u) && typeset_is_subset(&t, &u) && !typeset_is_subset(&u, &t));
    /* a bitvector & a small set: small */
    CHECK(typeset_intersect_into(&u, &t) == ST_OK);
    CHECK(typeset_is_small(&u) && typeset_equal(&u, &t));
    /* remove in the small form; iteration order */
    typeset_remove(&t, typeset_class_id(100));
    typeset_remove(&t, 3); /* absent */
    CHECK_EQ_INT(typeset_count(&t), TYPESET_SMALL_MAX - 1);
    CHECK(!typeset_contains(&t, typeset_class_id(100)));
    {
        typeset_iter_t it;
        uint32_t prev = 0;
        typeset_iterate(&t, &it);
        while (typeset_next(&it, &id)) {
            CHECK(id > prev);
            prev = id;
        }
    }
    /* a forced bitvector keeps its form through adds and unions */
    typeset_init(&s);
    CHECK(typeset_to_bits(&s, 0, a) == ST_OK && !typeset_is_small(&s) && typeset_is_empty(&s));
    CHECK(typeset_union_into(&s, &t, a) == ST_OK && !typeset_is_small(&s));
    CHECK(typeset_equal(&s, &t));
    arena_destroy(&a);
}

TEST(typeset_ids_and_null)
{
    typeset_t s;
    typeset_iter_t it;
    uint32_t id = 77;
    arena_t *a = arena_new(0);

    REQUIRE(a != NULL);
    CHECK_EQ_INT(typeset_class_id(0), TYPESET_FIRST_CLASS);
    CHECK_EQ_INT(typeset_class_id(TYPESET_ID_LIMIT - TYPESET_FIRST_CLASS - 1),
                 TYPESET_ID_LIMIT - 1);
    CHECK_EQ_INT(typeset_class_id(TYPESET_ID_LIMIT - TYPESET_FIRST_CLASS), UINT32_MAX);
    CHECK_EQ_INT(typeset_class_id(UINT32_MAX), UINT32_MAX);
    typeset_init(&s);
    CHECK(typeset_add(&s, UINT32_MAX, a) == ST_ELIMIT);
    CHECK(typeset_add(&s, TYPESET_ID_LIMIT, a) == ST_ELIMIT);
    CHECK(typeset_add(NULL, 1, a) == ST_EINVAL);
    CHECK(typeset_is_empty(&s));
    /* the largest id: a bitvector of the largest length */
    CHECK(typeset_to_bits(&s, 1, a) == ST_OK);
    CHECK(typeset_add(&s, TYPESET_ID_LIMIT - 1, a) == ST_OK);
    CHECK(typeset_contains(&s, TYPESET_ID_LIMIT - 1) && typeset_count(&s) == 1);
    CHECK(typeset_to_bits(&s, TYPESET_ID_LIMIT, a) == ST_OK);
    CHECK(typeset_to_bits(&s, TYPESET_ID_LIMIT + 1, a) == ST_ELIMIT);
    CHECK(typeset_to_bits(NULL, 1, a) == ST_EINVAL);
    CHECK(typeset_to_small(&s) == ST_OK && typeset_contains(&s, TYPESET_ID_LIMIT - 1));
    CHECK(typeset_to_small(NULL) == ST_EINVAL);
    /* NULL is the empty set */
    CHECK(!typeset_contains(NULL, 0));
    CHECK_EQ_INT(typeset_count(NULL), 0);
    CHECK(typeset_is_empty(NULL) && typeset_is_small(NULL));
    CHECK(typeset_equal(NULL, NULL));
    CHECK(!typeset_equal(NULL, &s) && !typeset_equal(&s, NULL));
    CHECK(typeset_is_subset(NULL, &s) && !typeset_is_subset(&s, NULL));
    CHECK(typeset_union_into(&s, NULL, NULL) == ST_OK && typeset_count(&s) == 1);
    CHECK(typeset_union_into(NULL, &s, a) == ST_EINVAL);
    CHECK(typeset_intersect_into(NULL, &s) == ST_EINVAL);
    CHECK(typeset_copy(NULL, &s, a) == ST_EINVAL);
    CHECK(typeset_union_into(&s, &s, a) == ST_OK && typeset_count(&s) == 1);
    CHECK(typeset_intersect_into(&s, &s) == ST_OK && typeset_count(&s) == 1);
    CHECK(typeset_copy(&s, &s, a) == ST_OK && typeset_count(&s) == 1);
    CHECK(typeset_intersect_into(&s, NULL) == ST_OK && typeset_is_empty(&s));
    CHECK(typeset_copy(&s, NULL, NULL) == ST_OK && typeset_is_empty(&s));
    typeset_init(NULL);
    typeset_remove(NULL, 1);
    typeset_iterate(NULL, &it);
    CHECK(!typeset_next(&it, &id) && id == 77);
    typeset_iterate(&s, NULL);
    CHECK(!typeset_next(NULL, &id));
    arena_destroy(&a);
}

/* A set whose words cannot be had is left as it was. */
TEST(typeset_errors_leave_set_unchanged)
{
    typeset_t s, before, big, t;
    arena_t *a = arena_new(256), *tiny = arena_new(256);

    REQUIRE(a != NULL && tiny != NULL);
    typeset_init(&s);
    for (uint32_t i = 0; i < TYPESET_SMALL_MAX; i++)
        REQUIRE(typeset_add(&s, i * 3, NULL) == ST_OK); /* small: no arena needed */
    before = s;
    /* promotion without an arena */
    CHECK(typeset_add(&s, 1000, NULL) == ST_EINVAL);
    CHECK(typeset_is_small(&s) && typeset_equal(&s, &before));
    /* promotion from an exhausted arena */
    arena_set_limit(tiny, 1);
    CHECK(typeset_add(&s, 1000, tiny) == ST_ENOMEM);
    CHECK(typeset_is_small(&s) && typeset_equal(&s, &before));
    CHECK(typeset_to_bits(&s, 64, tiny) == ST_ENOMEM && typeset_is_small(&s));
    /* a failing allocation of the chunk itself */
    alloc_fail_after(0);
    CHECK(typeset_add(&s, 1000, a) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK(typeset_is_small(&s) && typeset_equal(&s, &before));
    /* unions and copies that need words */
    typeset_init(&big);
    REQUIRE(typeset_to_bits(&big, 100000, a) == ST_OK);
    REQUIRE(typeset_add(&big, 99999, a) == ST_OK);
    CHECK(typeset_union_into(&s, &big, NULL) == ST_EINVAL);
    CHECK(typeset_union_into(&s, &big, tiny) == ST_ENOMEM);
    CHECK(typeset_is_small(&s) && typeset_equal(&s, &before));
    typeset_init(&t);
    CHECK(typeset_copy(&t, &big, tiny) == ST_ENOMEM && typeset_is_empty(&t));
    /* growing a bitvector */
    REQUIRE(typeset_to_bits(&s, 64, a) == ST_OK);
    CHECK(typeset_add(&s, 99999, tiny) == ST_ENOMEM);
    CHECK(typeset_add(&s, 99999, NULL) == ST_EINVAL);
    CHECK(typeset_union_into(&s, &big, tiny) == ST_ENOMEM);
    CHECK(typeset_to_bits(&s, 100000, NULL) == ST_EINVAL);
    CHECK(typeset_equal(&s, &before) && !typeset_contains(&s, 99999));
    /* longer src words holding nothing more: no words needed */
    typeset_remove(&big, 99999);
    REQUIRE(typeset_add(&big, 3, a) == ST_OK);
    CHECK(typeset_union_into(&s, &big, NULL) == ST_OK && typeset_equal(&s, &before));
    /* and a small set into a bitvector, growing it */
    typeset_init(&t);
    REQUIRE(typeset_add(&t, 5000, NULL) == ST_OK);
    CHECK(typeset_union_into(&s, &t, NULL) == ST_EINVAL);
    CHECK(typeset_union_into(&s, &t, a) == ST_OK && typeset_contains(&s, 5000));
    arena_destroy(&a);
    arena_destroy(&tiny);
}
