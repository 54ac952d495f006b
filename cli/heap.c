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
    uintptr_t brk_now = (uintptr_t)sbrk(0), page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
    void *first;

    if (brk_now == (uintptr_t)-1 || page == 0 || page >= HUGE_PAGE)
        return;
    /* malloc's first call writes its headers at the break: put the break
       one page below a 2 MB boundary, so that those writes fault in that
       page alone and the huge pages above the boundary are still untouched
       when madvise marks them (a region with a small page already in it
       gets no huge page; the skipped address space is never touched) */
    start = ((brk_now + page + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1)) - page;
    if (start > brk_now && sbrk((intptr_t)(start - brk_now)) == (void *)-1)
        return;
    mallopt(M_TOP_PAD, (int)HEAP_HUGE_BYTES);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if ((first = malloc(1)) == NULL)
        return;
    end = (uintptr_t)sbrk(0) & ~(HUGE_PAGE - 1);
    /* malloc used the heap from start (no allocation came before) */
    if ((uintptr_t)first >= start && (uintptr_t)first < start + page && end > start + page)
        (void)madvise((void *)(start + page), end - (start + page), MADV_HUGEPAGE);
    free(first);
}
