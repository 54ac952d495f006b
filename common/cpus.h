/* cpus.h - how many CPUs are online: the default number of threads of
 * every part of strata that makes one per CPU. Header only: one call. */
#ifndef STRATA_CPUS_H
#define STRATA_CPUS_H

#include <unistd.h>

/* Online CPUs, at least 1 and at most max (a caller's own bound on the
 * threads it makes). */
static inline unsigned cpus_online(unsigned max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    return (unsigned long)n > max ? max : (unsigned)n;
}

#endif
