/* diag.c - the arena-backed diagnostic list of a scan. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_list_init(diag_list_t *self, arena_t *a)
{
    memset(self, 0, sizeof *self);
    self->arena = a;
}

static bool diag_grow(diag_list_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : 32;
    size_t old_bytes, new_bytes;
    diag_t *items;

    if (!st_mul_size(self->cap, sizeof(diag_t), &old_bytes) ||
        !st_mul_size(cap, sizeof(diag_t), &new_bytes))
        return false;
    items = arena_realloc(self->arena, self->items, old_bytes, new_bytes);
    if (items == NULL)
        return false;
    self->items = items;
    self->cap = cap;
    return true;
}

diag_t *diag_add(diag_list_t *self, uint32_t line, uint32_t col, const char *code, const char *fmt,
                 ...)
{
    char buf[512];
    va_list ap;
    int n;
    diag_t *d;
    char *msg;

    if (self->count == self->cap && !diag_grow(self)) {
        self->oom = true;
        return NULL;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    if ((msg = arena_strndup(self->arena, buf, (size_t)n)) == NULL) {
        self->oom = true;
        return NULL;
    }
    d = &self->items[self->count++];
    d->line = line;
    d->col = col;
    d->code = code;
    d->msg = msg;
    d->name = UINT32_MAX;
    d->dead = 0;
    return d;
}

static int diag_cmp(const void *pa, const void *pb)
{
    const diag_t *a = pa, *b = pb;
    int c;

    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    if ((c = strcmp(a->code, b->code)) != 0)
        return c;
    return strcmp(a->msg, b->msg);
}

void diag_list_sort(diag_list_t *self)
{
    size_t j = 0;

    for (size_t i = 0; i < self->count; i++)
        if (!self->items[i].dead)
            self->items[j++] = self->items[i];
    self->count = j;
    if (self->count > 1)
        qsort(self->items, self->count, sizeof(diag_t), diag_cmp);
}
