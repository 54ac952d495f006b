/* typeset.c - type sets in two forms: a few sorted ids, or a bitvector.
 *
 * The small form answers an operation from a handful of ids in the struct
 * itself and costs no allocation, whatever the universe; a bitvector costs
 * a pass over universe / 64 words, in the kernels of typeset_kernels.c.
 * So small sets win over large universes and lose over small ones, and
 * TYPESET_SMALL_MAX is where a few more ids stop paying (measured by
 * bench/typeset_bench.c; see docs/architecture.md, "Type sets"). Where the
 * forms are mixed the small side is walked id by id; only equality and a
 * bitvector tested within a small set read all the bitvector's words.
 *
 * A bitvector's length is what its ids needed when it was made, at least
 * doubled when an id beyond it is added (so filling a set id by id copies
 * its words a logarithmic number of times), the universe asked for by
 * typeset_to_bits, or the length of a longer set joined into it. Words
 * past an operand's length read as zero, so sets of a job made before and
 * after its universe grew still combine. Every function that may allocate
 * builds its result before it changes the set, so a failure leaves the set
 * as it was. */
#include "typeset.h"

#include <stddef.h>
#include <string.h>

#define MAX_WORDS (TYPESET_ID_LIMIT / 64)

static const typeset_t empty_set; /* small, no ids */

static inline const typeset_t *or_empty(const typeset_t *s)
{
    return s != NULL ? s : &empty_set;
}

static inline bool is_bits(const typeset_t *s)
{
    return s->words != 0;
}

/* Words holding ids 0..id. */
static inline size_t words_for(uint32_t id)
{
    return (size_t)id / 64 + 1;
}

static inline uint64_t bit_of(uint32_t id)
{
    return UINT64_C(1) << (id % 64);
}

/* The length a bitvector of old words grows to for an id in word need - 1:
 * at least double, so that adding ids one by one copies it a logarithmic
 * number of times. */
static inline size_t doubled(size_t old, size_t need)
{
    size_t len = old * 2 > need ? old * 2 : need;

    return len < MAX_WORDS ? len : MAX_WORDS;
}

static inline bool bits_test(const typeset_t *s, uint32_t id)
{
    return (size_t)id / 64 < s->words && (s->u.bits[id / 64] & bit_of(id)) != 0;
}

/* True when id is among the small form's ids; *pos is where it is or would
 * go to keep them sorted. A scan that stops early: on sets of 1 to 4
 * random ids it measured faster than counting the ids below id over the
 * whole array, which has no branch on the ids (a quarter off a subset
 * test, half off a join). */
static inline bool small_find(const typeset_t *s, uint32_t id, size_t *pos)
{
    size_t i = 0;

    while (i < s->n && s->u.ids[i] < id)
        i++;
    *pos = i;
    return i < s->n && s->u.ids[i] == id;
}

static bool words_zero(const uint64_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != 0)
            return false;
    return true;
}

/* n zeroed words from a. */
static st_rc_t alloc_words(arena_t *a, size_t n, uint64_t **out)
{
    uint64_t *w;

    if (a == NULL)
        return ST_EINVAL;
    if ((w = arena_calloc(a, n, sizeof *w)) == NULL)
        return ST_ENOMEM;
    *out = w;
    return ST_OK;
}

/* Lengthens a bitvector to len words (old length < len <= MAX_WORDS), the
 * new words zero. */
static st_rc_t grow(typeset_t *s, size_t len, arena_t *a)
{
    size_t old = s->words;
    uint64_t *w;

    if (a == NULL)
        return ST_EINVAL;
    if ((w = arena_realloc(a, s->u.bits, old * sizeof *w, len * sizeof *w)) == NULL)
        return ST_ENOMEM;
    memset(w + old, 0, (len - old) * sizeof *w);
    s->u.bits = w;
    s->words = (uint32_t)len;
    return ST_OK;
}

/* Turns ids[0..n) (sorted, below TYPESET_ID_LIMIT) into s's bitvector of at
 * least need words (1 <= need <= MAX_WORDS). ids may be s's own. */
static st_rc_t set_bits_from(typeset_t *s, const uint32_t *ids, size_t n, size_t need, arena_t *a)
{
    uint32_t copy[2 * TYPESET_SMALL_MAX];
    uint64_t *w;
    st_rc_t rc;

    if (n > 0 && words_for(ids[n - 1]) > need)
        need = words_for(ids[n - 1]);
    memcpy(copy, ids, n * sizeof ids[0]);
    if ((rc = alloc_words(a, need, &w)) != ST_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        w[copy[i] / 64] |= bit_of(copy[i]);
    s->n = 0;
    s->words = (uint32_t)need;
    s->u.bits = w;
    return ST_OK;
}

void typeset_init(typeset_t *self)
{
    if (self == NULL)
        return;
    self->n = 0;
    self->words = 0;
}

st_rc_t typeset_add(typeset_t *self, uint32_t id, arena_t *a)
{
    uint32_t ids[TYPESET_SMALL_MAX + 1];
    size_t pos;
    st_rc_t rc;

    if (self == NULL)
        return ST_EINVAL;
    if (id >= TYPESET_ID_LIMIT)
        return ST_ELIMIT;
    if (is_bits(self)) {
        if (words_for(id) > self->words &&
            (rc = grow(self, doubled(self->words, words_for(id)), a)) != ST_OK)
            return rc;
        self->u.bits[id / 64] |= bit_of(id);
        return ST_OK;
    }
    if (small_find(self, id, &pos))
        return ST_OK;
    if (self->n < TYPESET_SMALL_MAX) {
        memmove(self->u.ids + pos + 1, self->u.ids + pos, (self->n - pos) * sizeof id);
        self->u.ids[pos] = id;
        self->n++;
        return ST_OK;
    }
    memcpy(ids, self->u.ids, pos * sizeof id);
    ids[pos] = id;
    memcpy(ids + pos + 1, self->u.ids + pos, (self->n - pos) * sizeof id);
    return set_bits_from(self, ids, self->n + 1, 1, a);
}

void typeset_remove(typeset_t *self, uint32_t id)
{
    size_t pos;

    if (self == NULL)
        return;
    if (is_bits(self)) {
        if ((size_t)id / 64 < self->words)
            self->u.bits[id / 64] &= ~bit_of(id);
        return;
    }
    if (!small_find(self, id, &pos))
        return;
    memmove(self->u.ids + pos, self->u.ids + pos + 1, (self->n - pos - 1) * sizeof id);
    self->n--;
}

bool typeset_contains(const typeset_t *self, uint32_t id)
{
    size_t pos;

    self = or_empty(self);
    if (is_bits(self))
        return bits_test(self, id);
    return small_find(self, id, &pos);
}

/* dst (small) | src (small) into ids[] (room for both), sorted; the count. */
static size_t merge_small(const typeset_t *dst, const typeset_t *src, uint32_t *ids)
{
    size_t i = 0, j = 0, n = 0;

    while (i < dst->n && j < src->n) {
        uint32_t p = dst->u.ids[i], q = src->u.ids[j];
        ids[n++] = p < q ? p : q;
        i += p <= q;
        j += q <= p;
    }
    while (i < dst->n)
        ids[n++] = dst->u.ids[i++];
    while (j < src->n)
        ids[n++] = src->u.ids[j++];
    return n;
}

/* dst (small) | src (small): small again when the ids fit, merged in place
 * from the back, else a bitvector just long enough. In place, because a
 * merge into a local array copied back cost twice the merge: the copy's
 * wide loads wait for the merge's narrow stores to retire. */
static st_rc_t union_small(typeset_t *dst, const typeset_t *src, arena_t *a)
{
    uint32_t ids[2 * TYPESET_SMALL_MAX];
    size_t n = dst->n, pos;
    ptrdiff_t i, j, k;

    for (size_t m = 0; m < src->n; m++)
        n += !small_find(dst, src->u.ids[m], &pos);
    if (n > TYPESET_SMALL_MAX)
        return set_bits_from(dst, ids, merge_small(dst, src, ids), 1, a);
    i = (ptrdiff_t)dst->n - 1;
    j = (ptrdiff_t)src->n - 1;
    k = (ptrdiff_t)n - 1;
    while (j >= 0) { /* the larger of the two last ids goes last */
        uint32_t q = src->u.ids[j];
        if (i >= 0 && dst->u.ids[i] > q) {
            dst->u.ids[k--] = dst->u.ids[i--];
        } else {
            i -= i >= 0 && dst->u.ids[i] == q; /* in both: once */
            dst->u.ids[k--] = q;
            j--;
        }
    }
    dst->n = (uint32_t)n;
    return ST_OK;
}

/* dst (bitvector) | src (small): src's ids set one by one. */
static st_rc_t union_bits_small(typeset_t *dst, const typeset_t *src, arena_t *a)
{
    size_t need;
    st_rc_t rc;

    if (src->n == 0)
        return ST_OK;
    need = words_for(src->u.ids[src->n - 1]);
    if (need > dst->words && (rc = grow(dst, doubled(dst->words, need), a)) != ST_OK)
        return rc;
    for (size_t i = 0; i < src->n; i++)
        dst->u.bits[src->u.ids[i] / 64] |= bit_of(src->u.ids[i]);
    return ST_OK;
}

/* dst | src (bitvector): the OR kernel over src's words, after dst has
 * become (small) or grown into a bitvector long enough for them. */
static st_rc_t union_with_bits(typeset_t *dst, const typeset_t *src, arena_t *a)
{
    size_t n = src->words;
    st_rc_t rc;

    if (!is_bits(dst)) {
        if ((rc = set_bits_from(dst, dst->u.ids, dst->n, n, a)) != ST_OK)
            return rc;
    } else if (n > dst->words) {
        if (words_zero(src->u.bits + dst->words, n - dst->words))
            n = dst->words; /* src's extra words hold nothing */
        else if ((rc = grow(dst, n, a)) != ST_OK)
            return rc;
    }
    typeset_words_or(dst->u.bits, src->u.bits, n);
    return ST_OK;
}

st_rc_t typeset_union_into(typeset_t *dst, const typeset_t *src, arena_t *a)
{
    if (dst == NULL)
        return ST_EINVAL;
    src = or_empty(src);
    if (src == dst)
        return ST_OK;
    if (is_bits(src))
        return union_with_bits(dst, src, a);
    if (is_bits(dst))
        return union_bits_small(dst, src, a);
    return union_small(dst, src, a);
}

st_rc_t typeset_intersect_into(typeset_t *dst, const typeset_t *src)
{
    uint32_t ids[TYPESET_SMALL_MAX];
    size_t n = 0, common;

    if (dst == NULL)
        return ST_EINVAL;
    src = or_empty(src);
    if (src == dst)
        return ST_OK;
    if (!is_bits(dst)) {                      /* keep dst's ids that src holds */
        for (size_t i = 0; i < dst->n; i++) { /* no branch on the ids */
            uint32_t id = dst->u.ids[i];
            dst->u.ids[n] = id;
            n += typeset_contains(src, id);
        }
        dst->n = (uint32_t)n;
        return ST_OK;
    }
    if (!is_bits(src)) { /* the result is among src's few ids: small */
        for (size_t i = 0; i < src->n; i++)
            if (bits_test(dst, src->u.ids[i]))
                ids[n++] = src->u.ids[i];
        dst->words = 0;
        dst->n = (uint32_t)n;
        memcpy(dst->u.ids, ids, n * sizeof ids[0]);
        return ST_OK;
    }
    common = dst->words < src->words ? dst->words : src->words;
    typeset_words_and(dst->u.bits, src->u.bits, common);
    memset(dst->u.bits + common, 0, (dst->words - common) * sizeof dst->u.bits[0]);
    return ST_OK;
}

/* Every id of a (bitvector) is among b's (small): a walk of a's ids that
 * stops at the first one b lacks. */
static bool bits_within_small(const typeset_t *a, const typeset_t *b)
{
    typeset_iter_t it;
    uint32_t id;
    size_t pos;

    typeset_iterate(a, &it);
    while (typeset_next(&it, &id))
        if (!small_find(b, id, &pos))
            return false;
    return true;
}

bool typeset_is_subset(const typeset_t *a, const typeset_t *b)
{
    size_t common;

    a = or_empty(a);
    b = or_empty(b);
    if (!is_bits(a)) {
        for (size_t i = 0; i < a->n; i++)
            if (!typeset_contains(b, a->u.ids[i]))
                return false;
        return true;
    }
    if (!is_bits(b))
        return bits_within_small(a, b);
    common = a->words < b->words ? a->words : b->words;
    return typeset_words_andnot_zero(a->u.bits, b->u.bits, common) &&
           words_zero(a->u.bits + common, a->words - common);
}

bool typeset_equal(const typeset_t *a, const typeset_t *b)
{
    const typeset_t *longer;
    size_t common;

    a = or_empty(a);
    b = or_empty(b);
    if (!is_bits(a) && !is_bits(b))
        return a->n == b->n && memcmp(a->u.ids, b->u.ids, a->n * sizeof a->u.ids[0]) == 0;
    if (!is_bits(a) || !is_bits(b)) {
        const typeset_t *small = is_bits(a) ? b : a, *bits = is_bits(a) ? a : b;
        return typeset_is_subset(small, bits) && typeset_count(bits) == small->n;
    }
    common = a->words < b->words ? a->words : b->words;
    longer = a->words > b->words ? a : b;
    return memcmp(a->u.bits, b->u.bits, common * sizeof a->u.bits[0]) == 0 &&
           words_zero(longer->u.bits + common, longer->words - common);
}

size_t typeset_count(const typeset_t *self)
{
    self = or_empty(self);
    if (is_bits(self))
        return typeset_words_popcount(self->u.bits, self->words);
    return self->n;
}

bool typeset_is_empty(const typeset_t *self)
{
    self = or_empty(self);
    if (is_bits(self))
        return words_zero(self->u.bits, self->words);
    return self->n == 0;
}

st_rc_t typeset_copy(typeset_t *dst, const typeset_t *src, arena_t *a)
{
    uint64_t *w;
    st_rc_t rc;

    if (dst == NULL)
        return ST_EINVAL;
    src = or_empty(src);
    if (src == dst)
        return ST_OK;
    if (!is_bits(src)) {
        *dst = *src;
        return ST_OK;
    }
    if ((rc = alloc_words(a, src->words, &w)) != ST_OK)
        return rc;
    memcpy(w, src->u.bits, src->words * sizeof *w);
    dst->n = 0;
    dst->words = src->words;
    dst->u.bits = w;
    return ST_OK;
}

st_rc_t typeset_to_bits(typeset_t *self, uint32_t universe, arena_t *a)
{
    size_t need = universe == 0 ? 1 : words_for(universe - 1);

    if (self == NULL)
        return ST_EINVAL;
    if (universe > TYPESET_ID_LIMIT)
        return ST_ELIMIT;
    if (!is_bits(self))
        return set_bits_from(self, self->u.ids, self->n, need, a);
    if (need > self->words)
        return grow(self, need, a);
    return ST_OK;
}

st_rc_t typeset_to_small(typeset_t *self)
{
    uint32_t ids[TYPESET_SMALL_MAX];
    typeset_iter_t it;
    size_t n = 0;

    if (self == NULL)
        return ST_EINVAL;
    if (!is_bits(self))
        return ST_OK;
    if (typeset_count(self) > TYPESET_SMALL_MAX)
        return ST_ELIMIT;
    typeset_iterate(self, &it);
    while (n < TYPESET_SMALL_MAX && typeset_next(&it, &ids[n]))
        n++;
    self->words = 0;
    self->n = (uint32_t)n;
    memcpy(self->u.ids, ids, n * sizeof ids[0]);
    return ST_OK;
}

bool typeset_is_small(const typeset_t *self)
{
    return !is_bits(or_empty(self));
}

void typeset_iterate(const typeset_t *self, typeset_iter_t *it)
{
    if (it == NULL)
        return;
    it->set = or_empty(self);
    it->pos = 0;
    it->word = is_bits(it->set) ? it->set->u.bits[0] : 0;
}

bool typeset_next(typeset_iter_t *it, uint32_t *id)
{
    const typeset_t *s;

    if (it == NULL || it->set == NULL)
        return false;
    s = it->set;
    if (!is_bits(s)) {
        if (it->pos >= s->n)
            return false;
        if (id != NULL)
            *id = s->u.ids[it->pos];
        it->pos++;
        return true;
    }
    while (it->word == 0) {
        if (it->pos + 1 >= s->words)
            return false;
        it->word = s->u.bits[++it->pos];
    }
    if (id != NULL)
        *id = (uint32_t)(it->pos * 64 + (size_t)__builtin_ctzll(it->word));
    it->word &= it->word - 1;
    return true;
}
