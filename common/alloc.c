/* alloc.c - heap wrappers with a countdown that injects one failure.
 *
 * The countdown is one relaxed atomic load on the fast path when disarmed
 * (the common case), so production pays next to nothing for testability. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Allocations left before the injected failure; -1 when disarmed. */
static _Atomic long fail_countdown = -1;

/* True when this allocation must fail. Decrements the countdown when armed. */
static int should_fail(void)
{
    long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);

    while (left >= 0) {
        long next = left == 0 ? -1 : left - 1;
        if (atomic_compare_exchange_weak(&fail_countdown, &left, next))
            return left == 0;
    }
    return 0;
}

void alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

int alloc_fail_armed(void)
{
    return atomic_load(&fail_countdown) >= 0;
}

void *st_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *st_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    if (n == 0 || size == 0)
        return calloc(1, 1);
    if (n > SIZE_MAX / size) /* checked here: ASan aborts on calloc overflow */
        return NULL;
    return calloc(n, size);
}

void *st_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size == 0 ? 1 : size);
}

void st_free(void *p)
{
    free(p);
}

bool st_grow(void **p, size_t *cap, size_t n, size_t size)
{
    size_t c = *cap ? *cap * 2 : 64;
    void *grown;

    if (n < *cap)
        return true;
    if (c < *cap || size == 0 || c > SIZE_MAX / size || (grown = st_realloc(*p, c * size)) == NULL)
        return false;
    *p = grown;
    *cap = c;
    return true;
}
