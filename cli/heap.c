/* heap.c - the heap of a short-lived command (see heap.h). */
#include "cli/heap.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

void heap_setup(void)
{
    uintptr_t brk_now = (uintptr_t)sbrk(0), start, end;
    void *first;

    if (brk_now == (uintptr_t)-1)
        return;
    /* the heap begins where the break is at malloc's first call: on a
       boundary, so that its first huge pages lie wholly inside it (the
       skipped address space is never touched) */
    start = (brk_now + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (start > brk_now && sbrk((intptr_t)(start - brk_now)) == (void *)-1)
        return;
    mallopt(M_TOP_PAD, (int)HEAP_HUGE_BYTES);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if ((first = malloc(1)) == NULL)
        return;
    end = (uintptr_t)sbrk(0) & ~(HUGE_PAGE - 1);
    /* malloc used the heap from start (no allocation came before) */
    if ((uintptr_t)first >= start && (uintptr_t)first < start + HUGE_PAGE && end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
    free(first);
}
