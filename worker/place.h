/* place.h - where a worker's analysis threads run: one per core, pinned, with
 * memory on the core's NUMA node.
 *
 * A scan job is CPU-bound and touches a parser and an arena that belong to
 * its thread; pinning each thread to one core and its memory to that core's
 * NUMA node keeps those caches and pages local. The decision (which thread
 * goes where) is a pure function of a topology and the options, computed by
 * place_plan without touching the threads, so it can be tested on hwloc
 * synthetic topologies ("pack:2 numa:2 core:4 pu:2") on any machine; only
 * place_apply binds, and only on the topology of this machine.
 *
 * Rules of a plan (cores are those with at least one usable PU, usable =
 * allowed to this process, in --cpuset, on the chosen NUMA node):
 *   - threads 0 means one thread per usable core;
 *   - threads equal to the cores: thread i on core i, in topology order;
 *   - fewer threads: spread over the NUMA nodes (thread k goes to node k mod n
 *     first, the next node with a free core if that one is full), packed
 *     within a node (its cores in topology order);
 *   - more threads: round-robin over the cores (thread i on core i mod n), and
 *     the plan says it is oversubscribed.
 * Each thread's memory node is the smallest NUMA node containing its core (the
 * requested node with numa_node); a machine without NUMA information has one
 * node, 0. A topology without cores (some virtual machines) uses PUs as cores.
 * hwloc is an implementation detail: no hwloc type appears here. */
#ifndef STRATA_PLACE_H
#define STRATA_PLACE_H

#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest CPU (PU) os index + 1 that --cpuset accepts, and the most
 * threads a plan places. */
#define PLACE_MAX_CPUS 4096
#define PLACE_MAX_THREADS 4096

/* A set of CPUs by os index: a plain value. */
typedef struct {
    uint64_t bits[PLACE_MAX_CPUS / 64];
} place_cpuset_t;

static inline bool place_cpuset_has(const place_cpuset_t *s, unsigned cpu)
{
    return cpu < PLACE_MAX_CPUS && (s->bits[cpu / 64] >> (cpu % 64) & 1u) != 0;
}

/* Number of CPUs in s. */
unsigned place_cpuset_count(const place_cpuset_t *s);

/* Parses a --cpuset argument into *out. Two forms:
 *   - the Linux list format, as in /sys and taskset -c: "0-3,8", comma-
 *     separated CPU numbers and inclusive ranges lo-hi (lo <= hi);
 *   - hwloc's bitmap format, as printed by hwloc-calc: "0xff" or
 *     "0x0000000f,0xffffffff", comma-separated 32-bit words of at most 8 hex
 *     digits, most significant first (the 0x is optional after the first).
 * Surrounding blanks are ignored. ST_EINVAL for an empty or malformed string
 * or one that selects no CPU; ST_ELIMIT for a CPU number >= PLACE_MAX_CPUS;
 * the message quotes the string and says what is wrong. *out is untouched on
 * error. Thread-safe. */
st_rc_t place_parse_cpuset(const char *s, place_cpuset_t *out, st_err_t *err);

/* A machine's topology (hwloc), loaded once per worker. Thread-safe for
 * concurrent reads (planning, describing, binding). */
typedef struct place_topo place_topo_t;

/* How many NUMA nodes the kernel shows (/sys/devices/system/node), 0 when
 * it says nothing. A few directory reads, where loading the topology reads
 * hundreds of files: enough to know that a machine has a single node and
 * needs no topology to lay out its processes. Thread-safe. */
unsigned place_numa_node_count(void);

/* Loads the topology of this machine (synthetic NULL), restricted to what
 * this process is allowed to use, or builds the one described by an hwloc
 * synthetic string ("pack:2 numa:2 core:4 pu:2"; at most 1024 bytes and 65536
 * PUs). ST_EINVAL for a synthetic string hwloc rejects, ST_ELIMIT for one too
 * large, ST_EIO when hwloc cannot read this machine, ST_ENOMEM. On success the
 * caller owns *out (place_topology_destroy); *out untouched on error. */
st_rc_t place_topology_load(const char *synthetic, place_topo_t **out, st_err_t *err);

/* The same from an XML export of a topology (hwloc's format, as written by
 * lstopo foo.xml), len bytes at xml (at most 16 MiB). Such a topology is not
 * this machine's: it can be planned, not applied. Errors as above (ST_EINVAL
 * for XML hwloc rejects). */
st_rc_t place_topology_load_xml(const char *xml, size_t len, place_topo_t **out, st_err_t *err);

/* Frees *self_p and sets it NULL; accepts NULL. Every plan made from it must
 * be destroyed first. */
void place_topology_destroy(place_topo_t **self_p);

/* True when t describes this machine (so a plan from it can be applied). */
bool place_topology_is_this_machine(const place_topo_t *t);

/* How a thread's CPUs are chosen within its core. */
typedef enum {
    PLACE_BIND_CORE = 0, /* every usable PU of the core (its hyperthreads) */
    PLACE_BIND_PU = 1    /* the core's first usable PU only */
} place_bind_t;

typedef struct {
    unsigned threads;   /* 0: one per usable core */
    const char *cpuset; /* place_parse_cpuset format; NULL: every allowed CPU */
    int numa_node;      /* os index of the only NUMA node to use; -1: all */
    place_bind_t bind;
} place_opts_t;

/* Default options: one thread per core, every allowed CPU, every node.
 * (A zeroed place_opts_t means NUMA node 0 only: start from this.) */
static inline place_opts_t place_opts_default(void)
{
    place_opts_t o = {.threads = 0, .cpuset = NULL, .numa_node = -1, .bind = PLACE_BIND_CORE};
    return o;
}

/* Where one thread runs: a plain value. */
typedef struct {
    unsigned core;    /* logical index of its core (of its PU when the topology has no cores) */
    unsigned core_os; /* os index of that core */
    unsigned pu;      /* os index of the first PU it is bound to */
    unsigned npus;    /* how many PUs it is bound to (1 with PLACE_BIND_PU) */
    int numa;         /* os index of the NUMA node its memory is bound to */
} place_thread_t;

typedef struct place_plan place_plan_t;

/* Plans the threads of one worker on t with options o (NULL: defaults).
 * ST_EINVAL when the cpuset is malformed (see place_parse_cpuset), names CPUs
 * this machine does not have or this process may not use, or leaves no usable
 * core; when numa_node does not exist or has no usable core. ST_ELIMIT for
 * more than PLACE_MAX_THREADS threads (asked, or one per core) or a CPU
 * number over PLACE_MAX_CPUS.
 * ST_ENOMEM. Messages quote the option and say what is usable instead.
 * The same topology and options always give the same plan. On success the
 * caller owns *out (place_plan_destroy); it borrows t, which must outlive it.
 * *out untouched on error. Thread-safe. */
st_rc_t place_plan(const place_topo_t *t, const place_opts_t *o, place_plan_t **out, st_err_t *err);

void place_plan_destroy(place_plan_t **self_p);

/* Number of threads planned (>= 1). */
unsigned place_plan_threads(const place_plan_t *p);

/* Number of distinct usable cores the plan draws from. */
unsigned place_plan_cores(const place_plan_t *p);

/* True when there are more threads than usable cores (so cores are shared). */
bool place_plan_oversubscribed(const place_plan_t *p);

/* Thread i's placement (i < place_plan_threads); borrowed, valid while p is.
 * NULL for i out of range. */
const place_thread_t *place_plan_thread(const place_plan_t *p, unsigned i);

/* What place_apply bound. */
typedef struct {
    bool cpu;      /* the thread runs only on its planned PUs */
    bool mem;      /* its new memory comes from its planned NUMA node */
    char why[160]; /* when either is false: why, for the log ("" otherwise) */
} place_bound_t;

/* Binds the calling thread as planned for thread `thread`: its CPUs (hwloc
 * HWLOC_CPUBIND_THREAD) and, when the machine has several NUMA nodes and the
 * system supports it, its memory (HWLOC_MEMBIND_BIND for this thread; only
 * once the CPUs are bound, else the pages could be remote to it). Not
 * binding memory is not an error, nor is a system without CPU binding
 * support: *bound (may be NULL) says what was done and why not. ST_EINVAL
 * for a thread out of range or a plan from a topology that is not this
 * machine's (synthetic or XML); ST_EIO when the system refuses a supported CPU binding (errno in
 * the message; the thread's affinity is unchanged then). Safe to call from several threads at once,
 * each for itself. */
st_rc_t place_apply(const place_plan_t *p, unsigned thread, place_bound_t *bound, st_err_t *err);

/* Appends a description of the plan to b for the log: a summary line, then one
 * line per thread, "thread 3: core 5 (pu 10), numa 1" (pus 10-11 when bound
 * to several). Errors as buf_printf. */
st_rc_t place_describe(const place_plan_t *p, buf_t *b);

/* The NUMA nodes (os indices, ascending) that have a usable core, with only
 * the CPUs of cpuset (NULL: all allowed) usable: one worker process per node.
 * Writes at most cap ids and sets *n to the total count (>= 1), so a caller
 * can size ids with a first call with cap 0. Errors as place_plan's for a bad
 * cpuset; *n untouched then. Thread-safe. */
st_rc_t place_numa_nodes(const place_topo_t *t, const char *cpuset, int *ids, size_t cap, size_t *n,
                         st_err_t *err);

#endif
