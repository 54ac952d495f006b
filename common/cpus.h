/* cpus.h - how many CPUs this process may use: the default number of
 * threads of every part of strata that makes one per CPU.
 *
 * The least of three numbers: the CPUs online; those the process may run
 * on (its affinity: taskset, a container's cpuset); and its cgroup's CPU
 * quota, rounded up (a container started with --cpus=1.5 gets 2), where
 * the quota is the smallest one set on the way from the process's cgroup
 * up to the hierarchy's root, read from cgroup v2's cpu.max or v1's
 * cpu.cfs_quota_us and cpu.cfs_period_us. Without the quota, a worker in a
 * container limited to one CPU of a 64-CPU host would start 64 threads
 * that the kernel throttles in turn. */
#ifndef STRATA_CPUS_H
#define STRATA_CPUS_H

/* The CPUs this process may use, at least 1 and at most max (a caller's
 * own bound on the threads it makes). Reads a few small files of /proc and
 * /sys once per process (the answer is kept). */
unsigned cpus_online(unsigned max);

/* The CPU quota of the cgroup this process is in, rounded up; 0 when none
 * is set or it cannot be read. root stands for "/" (tests give a directory
 * holding proc/self/cgroup, proc/self/mountinfo and the cgroup files); ""
 * for the real one. */
unsigned cpus_cgroup_limit(const char *root);

#endif
