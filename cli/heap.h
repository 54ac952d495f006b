/* heap.h - the heap of a short-lived command.
 *
 * On the machines strata runs on a page fault is not cheap (10 to 15 us in
 * a virtual machine: entering the kernel, zeroing the page, leaving), and
 * a warm re-check of the standard library touched about 770 fresh pages:
 * a third of its time. heap_setup() makes the main thread's heap start one
 * page below a 2 MB boundary (malloc's first writes land in that page) and
 * asks for transparent huge pages on the HEAP_HUGE_BYTES above it, before
 * anything touches them (madvise MADV_HUGEPAGE: the system's THP setting
 * must be "madvise" or "always"; with "never" nothing changes; a 2 MB
 * region that already holds a small page never gets a huge one), and has malloc
 * serve large blocks from that heap rather than from mappings of their own
 * and keep freed memory for the next allocation: a few faults of 2 MB
 * instead of hundreds of 4 KB. For commands that run and exit (check,
 * graph, submit...), not for the daemons, whose memory should go back to
 * the system. Call it first thing in main, before any allocation. */
#ifndef STRATA_CLI_HEAP_H
#define STRATA_CLI_HEAP_H

#define HEAP_HUGE_BYTES ((size_t)8 << 20)

void heap_setup(void);

#endif
