/* tsalloc.c - counting allocator for tree-sitter (see tsalloc.h).
 *
 * Each block carries a 16-byte header with its size, so that a free knows
 * how much to take off; 16 keeps the alignment malloc gives. The counters
 * are thread-local: a block freed on another thread than the one that
 * allocated it (a parser made on one thread and destroyed on another) only
 * makes that thread's count lower, which can never cancel a parse. */
#include "worker/python/tsalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#define TSALLOC_HEADER 16

static _Thread_local int64_t held;      /* bytes allocated less freed on this thread */
static _Thread_local int64_t base;      /* held when the parse began */
static _Thread_local int64_t peak;      /* the most held during the parse, above base */
static _Thread_local size_t budget;     /* 0: none */
static _Thread_local size_t *cancel_at; /* the parse's flag; NULL: no parse */

static void count(int64_t delta)
{
    int64_t now;

    held += delta;
    if (cancel_at == NULL)
        return;
    now = held - base;
    if (now > peak)
        peak = now;
    if (budget != 0 && now > (int64_t)budget)
        *cancel_at = 1;
}

static void *block_of(void *p, size_t size)
{
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof size);
    count((int64_t)size);
    return (char *)p + TSALLOC_HEADER;
}

static size_t size_of(void *user)
{
    size_t size;

    memcpy(&size, (char *)user - TSALLOC_HEADER, sizeof size);
    return size;
}

static void *ts_count_malloc(size_t size)
{
    if (size > SIZE_MAX - TSALLOC_HEADER)
        return NULL;
    return block_of(malloc(size + TSALLOC_HEADER), size);
}

static void *ts_count_calloc(size_t n, size_t size)
{
    size_t bytes;

    if (size != 0 && n > (SIZE_MAX - TSALLOC_HEADER) / size)
        return NULL;
    bytes = n * size;
    return block_of(calloc(1, bytes + TSALLOC_HEADER), bytes);
}

static void *ts_count_realloc(void *user, size_t size)
{
    size_t old;
    void *p;

    if (user == NULL)
        return ts_count_malloc(size);
    if (size > SIZE_MAX - TSALLOC_HEADER)
        return NULL;
    old = size_of(user);
    if ((p = realloc((char *)user - TSALLOC_HEADER, size + TSALLOC_HEADER)) == NULL)
        return NULL;
    count(-(int64_t)old);
    return block_of(p, size);
}

static void ts_count_free(void *user)
{
    if (user == NULL)
        return;
    count(-(int64_t)size_of(user));
    free((char *)user - TSALLOC_HEADER);
}

static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void install(void)
{
    ts_set_allocator(ts_count_malloc, ts_count_calloc, ts_count_realloc, ts_count_free);
}

void tsalloc_install(void)
{
    pthread_once(&installed, install);
}

void tsalloc_begin(size_t limit, size_t *cancel)
{
    base = held;
    peak = 0;
    budget = limit;
    cancel_at = cancel;
}

size_t tsalloc_end(void)
{
    cancel_at = NULL;
    budget = 0;
    return peak > 0 ? (size_t)peak : 0;
}
