/* place.c - thread placement on cores and NUMA nodes, with hwloc.
 *
 * The plan is computed from the hwloc tree alone, so a synthetic or XML
 * topology yields exactly the plan the same machine would: that is what makes
 * placement testable without the hardware. Binding is the only step that
 * talks to the system, and it refuses a plan that is not from this machine
 * rather than pretend to bind (hwloc's bindings are no-ops on such a
 * topology). Memory binding is best effort: a thread whose pages land on
 * another node is slower, not wrong, so its failure is reported, not fatal. */
#include "worker/place.h"

#include "common/alloc.h"
#include "common/digest.h"

#include <dirent.h>
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A synthetic or XML topology larger than this is refused (hwloc would build
 * every object in memory first). */
#define PLACE_MAX_TOPO_PUS 65536u
#define PLACE_MAX_SYNTHETIC 1024u
#define PLACE_MAX_XML (16u << 20)

struct place_topo {
    hwloc_topology_t topo;
    bool this_machine;
};

struct place_plan {
    const place_topo_t *t;
    unsigned nthreads;
    unsigned ncores;
    bool oversubscribed;
    place_thread_t *threads;
    hwloc_bitmap_t *cpus; /* per thread: the PUs it is bound to */
};

/* One usable core while planning. */
typedef struct {
    hwloc_obj_t obj;
    hwloc_bitmap_t cpus; /* its usable PUs */
    int numa;            /* os index of its memory node */
} core_t;

/* ---- cpuset strings ---- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void cpuset_add(place_cpuset_t *s, unsigned cpu)
{
    s->bits[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}

unsigned place_cpuset_count(const place_cpuset_t *s)
{
    unsigned n = 0;

    for (size_t i = 0; i < PLACE_MAX_CPUS / 64; i++)
        n += (unsigned)__builtin_popcountll(s->bits[i]);
    return n;
}

/* Reads a decimal CPU number at s[*pos]; ST_ELIMIT at PLACE_MAX_CPUS or more. */
static st_rc_t read_cpu(const char *s, size_t end, size_t *pos, unsigned *cpu, const char *all,
                        st_err_t *err)
{
    size_t i = *pos;
    unsigned long v = 0;

    if (i >= end || s[i] < '0' || s[i] > '9')
        return st_fail(err, ST_EINVAL, "cpuset \"%.64s\": expected a cpu number at offset %zu", all,
                       i);
    for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v >= PLACE_MAX_CPUS)
            return st_fail(err, ST_ELIMIT, "cpuset \"%.64s\": cpu numbers stop at %d", all,
                           PLACE_MAX_CPUS - 1);
    }
    *pos = i;
    *cpu = (unsigned)v;
    return ST_OK;
}

/* "0-3,8": items separated by single commas, each N or lo-hi. */
static st_rc_t parse_list(const char *s, size_t begin, size_t end, place_cpuset_t *set,
                          const char *all, st_err_t *err)
{
    size_t i = begin;
    unsigned lo, hi;
    st_rc_t rc;

    for (;;) {
        if ((rc = read_cpu(s, end, &i, &lo, all, err)) != ST_OK)
            return rc;
        hi = lo;
        if (i < end && s[i] == '-') {
            i++;
            if ((rc = read_cpu(s, end, &i, &hi, all, err)) != ST_OK)
                return rc;
            if (hi < lo)
                return st_fail(err, ST_EINVAL, "cpuset \"%.64s\": range %u-%u is backwards", all,
                               lo, hi);
        }
        for (unsigned c = lo; c <= hi; c++)
            cpuset_add(set, c);
        if (i == end)
            return ST_OK;
        if (s[i] != ',')
            return st_fail(err, ST_EINVAL, "cpuset \"%.64s\": unexpected '%c' at offset %zu", all,
                           s[i], i);
        i++;
    }
}

/* "0x0000000f,0xffffffff": 32-bit words, most significant first. */
static st_rc_t parse_hex(const char *s, size_t begin, size_t end, place_cpuset_t *set,
                         const char *all, st_err_t *err)
{
    size_t nwords = 1, w, i;

    for (i = begin; i < end; i++)
        nwords += s[i] == ',';
    w = nwords;
    i = begin;
    while (i <= end) {
        size_t digits = 0;
        uint32_t word = 0;

        w--;
        if (i + 1 < end && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
            i += 2;
        for (; i < end && s[i] != ','; i++, digits++) {
            int h = digest_hex_value(s[i]);
            if (h < 0 || digits == 8)
                return st_fail(err, ST_EINVAL,
                               "cpuset \"%.64s\": bad hex word at offset %zu (8 hex digits at "
                               "most per comma-separated word)",
                               all, i);
            word = word << 4 | (uint32_t)h;
        }
        if (digits == 0)
            return st_fail(err, ST_EINVAL, "cpuset \"%.64s\": empty hex word at offset %zu", all,
                           i);
        if (word != 0 && w >= PLACE_MAX_CPUS / 32)
            return st_fail(err, ST_ELIMIT, "cpuset \"%.64s\": cpu numbers stop at %d", all,
                           PLACE_MAX_CPUS - 1);
        for (unsigned b = 0; b < 32; b++)
            if (word >> b & 1u)
                cpuset_add(set, (unsigned)(w * 32 + b));
        i++; /* past the comma (or end) */
    }
    return ST_OK;
}

st_rc_t place_parse_cpuset(const char *s, place_cpuset_t *out, st_err_t *err)
{
    place_cpuset_t set;
    size_t begin = 0, end;
    st_rc_t rc;

    if (s == NULL)
        return st_fail(err, ST_EINVAL, "cpuset: no string");
    end = strlen(s);
    while (begin < end && is_blank(s[begin]))
        begin++;
    while (end > begin && is_blank(s[end - 1]))
        end--;
    if (begin == end)
        return st_fail(err, ST_EINVAL, "cpuset \"%.64s\" is empty", s);
    memset(&set, 0, sizeof set);
    if (end - begin > 2 && s[begin] == '0' && (s[begin + 1] == 'x' || s[begin + 1] == 'X'))
        rc = parse_hex(s, begin, end, &set, s, err);
    else
        rc = parse_list(s, begin, end, &set, s, err);
    if (rc != ST_OK)
        return rc;
    if (place_cpuset_count(&set) == 0)
        return st_fail(err, ST_EINVAL, "cpuset \"%.64s\" selects no cpu", s);
    *out = set;
    return ST_OK;
}

/* ---- topology ---- */

/* Product of the arities of a synthetic description, to refuse one hwloc
 * would take long to build. Tokens are "type:N", "N", "type:N(attrs)" or a
 * bracketed memory attachment, which adds no PU. */
static bool synthetic_too_large(const char *s)
{
    unsigned long product = 1;
    const char *p = s;

    while (*p != '\0') {
        const char *tok, *num;
        unsigned long v = 0;
        int digits = 0;

        while (is_blank(*p))
            p++;
        tok = p;
        while (*p != '\0' && !is_blank(*p))
            p++;
        if (tok == p || *tok == '[' || *tok == '(')
            continue;
        num = memchr(tok, ':', (size_t)(p - tok));
        num = num != NULL ? num + 1 : tok;
        for (; num < p && *num >= '0' && *num <= '9' && digits < 8; num++, digits++)
            v = v * 10 + (unsigned long)(*num - '0');
        if (digits == 8 || (digits > 0 && (product *= v) > PLACE_MAX_TOPO_PUS))
            return true;
    }
    return false;
}

static st_rc_t topo_finish(hwloc_topology_t topo, place_topo_t **out, st_err_t *err)
{
    place_topo_t *t;
    int npus;

    if (hwloc_topology_load(topo) != 0) {
        int e = errno;
        hwloc_topology_destroy(topo);
        return st_fail(err, e == ENOMEM ? ST_ENOMEM : ST_EIO, "hwloc: loading the topology: %s",
                       strerror(e));
    }
    npus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    if (npus <= 0 || (unsigned)npus > PLACE_MAX_TOPO_PUS) {
        hwloc_topology_destroy(topo);
        return st_fail(err, npus <= 0 ? ST_EINVAL : ST_ELIMIT,
                       "hwloc: topology has %d cpus (1 to %u accepted)", npus, PLACE_MAX_TOPO_PUS);
    }
    if ((t = st_malloc(sizeof *t)) == NULL) {
        hwloc_topology_destroy(topo);
        return st_fail(err, ST_ENOMEM, "topology: out of memory");
    }
    t->topo = topo;
    t->this_machine = hwloc_topology_is_thissystem(topo) != 0;
    *out = t;
    return ST_OK;
}

unsigned place_numa_node_count(void)
{
    DIR *dir = opendir("/sys/devices/system/node");
    struct dirent *e;
    unsigned n = 0;

    if (dir == NULL)
        return 0;
    while ((e = readdir(dir)) != NULL)
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            n++;
    closedir(dir);
    return n;
}

st_rc_t place_topology_load(const char *synthetic, place_topo_t **out, st_err_t *err)
{
    hwloc_topology_t topo;

    if (synthetic != NULL) {
        if (strlen(synthetic) > PLACE_MAX_SYNTHETIC)
            return st_fail(err, ST_ELIMIT, "synthetic topology: longer than %u bytes",
                           PLACE_MAX_SYNTHETIC);
        if (synthetic_too_large(synthetic))
            return st_fail(err, ST_ELIMIT, "synthetic topology \"%.64s\": more than %u cpus",
                           synthetic, PLACE_MAX_TOPO_PUS);
    }
    if (hwloc_topology_init(&topo) != 0)
        return st_fail(err, ST_ENOMEM, "hwloc: cannot create a topology");
    if (synthetic != NULL && hwloc_topology_set_synthetic(topo, synthetic) != 0) {
        hwloc_topology_destroy(topo);
        return st_fail(err, ST_EINVAL, "synthetic topology \"%.64s\": hwloc rejects it", synthetic);
    }
    return topo_finish(topo, out, err);
}

st_rc_t place_topology_load_xml(const char *xml, size_t len, place_topo_t **out, st_err_t *err)
{
    hwloc_topology_t topo;
    char *copy;
    int rc;

    if (xml == NULL || len == 0)
        return st_fail(err, ST_EINVAL, "xml topology: empty");
    if (len > PLACE_MAX_XML)
        return st_fail(err, ST_ELIMIT, "xml topology: %zu bytes (at most %u)", len, PLACE_MAX_XML);
    /* hwloc wants the terminating NUL inside the buffer. */
    if ((copy = st_malloc(len + 1)) == NULL)
        return st_fail(err, ST_ENOMEM, "xml topology: out of memory");
    memcpy(copy, xml, len);
    copy[len] = '\0';
    if (hwloc_topology_init(&topo) != 0) {
        st_free(copy);
        return st_fail(err, ST_ENOMEM, "hwloc: cannot create a topology");
    }
    rc = hwloc_topology_set_xmlbuffer(topo, copy, (int)len + 1);
    if (rc == 0) {
        /* The XML is parsed during the load; the buffer must live until then. */
        st_rc_t r = topo_finish(topo, out, err);
        st_free(copy);
        if (r == ST_EIO)
            return st_fail(err, ST_EINVAL, "xml topology: hwloc rejects it");
        return r;
    }
    st_free(copy);
    hwloc_topology_destroy(topo);
    return st_fail(err, ST_EINVAL, "xml topology: hwloc rejects it");
}

void place_topology_destroy(place_topo_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    hwloc_topology_destroy((*self_p)->topo);
    st_free(*self_p);
    *self_p = NULL;
}

bool place_topology_is_this_machine(const place_topo_t *t)
{
    return t->this_machine;
}

/* ---- usable cores ---- */

/* Cores, or PUs when the topology has no core level. */
static hwloc_obj_type_t unit_type(hwloc_topology_t topo)
{
    return hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

static void list_string(hwloc_const_bitmap_t b, char *out, size_t cap)
{
    if (hwloc_bitmap_iszero(b))
        snprintf(out, cap, "none");
    else if (hwloc_bitmap_list_snprintf(out, cap, b) < 0)
        snprintf(out, cap, "?");
}

/* The allowed cpus, minus what --cpuset leaves out, on numa_node if >= 0.
 */
static st_rc_t usable_cpus(const place_topo_t *t, const char *cpuset, int numa_node,
                           hwloc_bitmap_t usable, st_err_t *err)
{
    hwloc_topology_t topo = t->topo;
    char have[128], bad[128];

    if (hwloc_bitmap_and(usable, hwloc_topology_get_topology_cpuset(topo),
                         hwloc_topology_get_allowed_cpuset(topo)) != 0)
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    if (cpuset != NULL) {
        place_cpuset_t sel;
        hwloc_bitmap_t want, missing;
        st_rc_t rc = place_parse_cpuset(cpuset, &sel, err);

        if (rc != ST_OK)
            return rc;
        want = hwloc_bitmap_alloc();
        missing = hwloc_bitmap_alloc();
        if (want == NULL || missing == NULL) {
            hwloc_bitmap_free(want);
            hwloc_bitmap_free(missing);
            return st_fail(err, ST_ENOMEM, "placement: out of memory");
        }
        for (unsigned c = 0; c < PLACE_MAX_CPUS; c++)
            if (place_cpuset_has(&sel, c))
                hwloc_bitmap_set(want, c);
        hwloc_bitmap_andnot(missing, want, usable);
        if (!hwloc_bitmap_iszero(missing)) {
            list_string(missing, bad, sizeof bad);
            list_string(usable, have, sizeof have);
            hwloc_bitmap_free(want);
            hwloc_bitmap_free(missing);
            return st_fail(err, ST_EINVAL,
                           "cpuset \"%.64s\": cpus %s are not usable here (usable: %s)", cpuset,
                           bad, have);
        }
        hwloc_bitmap_and(usable, usable, want);
        hwloc_bitmap_free(want);
        hwloc_bitmap_free(missing);
    }
    if (numa_node < -1)
        return st_fail(err, ST_EINVAL, "numa node %d: not a node number", numa_node);
    if (numa_node >= 0) {
        hwloc_obj_t node = hwloc_get_numanode_obj_by_os_index(topo, (unsigned)numa_node);

        if (node == NULL) {
            list_string(hwloc_topology_get_topology_nodeset(topo), have, sizeof have);
            return st_fail(err, ST_EINVAL, "numa node %d does not exist (nodes: %s)", numa_node,
                           have);
        }
        hwloc_bitmap_and(usable, usable, node->cpuset);
        if (hwloc_bitmap_iszero(usable))
            return st_fail(err, ST_EINVAL, "numa node %d has no usable cpu%s", numa_node,
                           cpuset != NULL ? " in the cpuset" : "");
    }
    if (hwloc_bitmap_iszero(usable))
        return st_fail(err, ST_EINVAL, "placement: no usable cpu");
    return ST_OK;
}

/* The smallest NUMA node containing all of core's cpus (the most local one
 * when a node's cpus are shared with, say, a high-bandwidth memory node); 0
 * when hwloc knows none. */
static int home_node(hwloc_topology_t topo, hwloc_obj_t core)
{
    hwloc_obj_t best = NULL, n = NULL;

    while ((n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n)) != NULL) {
        if (n->cpuset == NULL || !hwloc_bitmap_isincluded(core->cpuset, n->cpuset))
            continue;
        if (best == NULL || hwloc_bitmap_weight(n->cpuset) < hwloc_bitmap_weight(best->cpuset))
            best = n;
    }
    return best != NULL ? (int)best->os_index : 0;
}

static void free_cores(core_t *cores, unsigned n)
{
    if (cores == NULL)
        return;
    for (unsigned i = 0; i < n; i++)
        hwloc_bitmap_free(cores[i].cpus);
    st_free(cores);
}

/* The usable cores in topology order, with their usable cpus and home node. */
static st_rc_t usable_cores(const place_topo_t *t, const char *cpuset, int numa_node, core_t **out,
                            unsigned *count, st_err_t *err)
{
    hwloc_topology_t topo = t->topo;
    hwloc_obj_type_t type = unit_type(topo);
    int nunits = hwloc_get_nbobjs_by_type(topo, type);
    hwloc_bitmap_t usable = hwloc_bitmap_alloc();
    core_t *cores = NULL;
    unsigned n = 0;
    st_rc_t rc;

    if (usable == NULL)
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    if ((rc = usable_cpus(t, cpuset, numa_node, usable, err)) != ST_OK)
        goto fail;
    if (nunits <= 0 || (cores = st_calloc((size_t)nunits, sizeof *cores)) == NULL) {
        rc = st_fail(err, nunits <= 0 ? ST_EINTERNAL : ST_ENOMEM, "placement: no cores");
        goto fail;
    }
    for (int i = 0; i < nunits; i++) {
        hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, (unsigned)i);
        hwloc_bitmap_t c;

        if (obj == NULL || obj->cpuset == NULL || !hwloc_bitmap_intersects(obj->cpuset, usable))
            continue;
        if ((c = hwloc_bitmap_alloc()) == NULL) {
            rc = st_fail(err, ST_ENOMEM, "placement: out of memory");
            goto fail;
        }
        hwloc_bitmap_and(c, obj->cpuset, usable);
        cores[n].obj = obj;
        cores[n].cpus = c;
        cores[n].numa = numa_node >= 0 ? numa_node : home_node(topo, obj);
        n++;
    }
    if (n == 0) {
        rc = st_fail(err, ST_EINVAL, "placement: no usable core");
        goto fail;
    }
    hwloc_bitmap_free(usable);
    *out = cores;
    *count = n;
    return ST_OK;
fail:
    free_cores(cores, n);
    hwloc_bitmap_free(usable);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The distinct home nodes of cores, ascending, into nodes (room for n). */
static unsigned distinct_nodes(const core_t *cores, unsigned n, int *nodes)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++)
        nodes[i] = cores[i].numa;
    qsort(nodes, n, sizeof *nodes, cmp_int);
    for (unsigned i = 0; i < n; i++)
        if (k == 0 || nodes[k - 1] != nodes[i])
            nodes[k++] = nodes[i];
    return k;
}

/* ---- plan ---- */

/* Fewer threads than cores: thread k on node k mod n (the next node with a
 * free core if it is full), on that node's first free core. order[k] gets
 * the core index of thread k. */
static st_rc_t spread(const core_t *cores, unsigned ncores, unsigned nthreads, unsigned *order,
                      st_err_t *err)
{
    int *nodes = st_calloc(ncores, sizeof *nodes);
    unsigned *next = st_calloc(ncores, sizeof *next);
    unsigned nn;

    if (nodes == NULL || next == NULL) {
        st_free(nodes);
        st_free(next);
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    }
    nn = distinct_nodes(cores, ncores, nodes);
    for (unsigned k = 0; k < nthreads; k++) {
        for (unsigned tries = 0; tries < nn; tries++) {
            unsigned j = (k + tries) % nn;
            unsigned c = next[j];

            while (c < ncores && cores[c].numa != nodes[j])
                c++;
            if (c < ncores) {
                order[k] = c;
                next[j] = c + 1;
                break;
            }
            next[j] = ncores;
        }
    }
    st_free(nodes);
    st_free(next);
    return ST_OK;
}

static void plan_free(place_plan_t *p)
{
    if (p == NULL)
        return;
    if (p->cpus != NULL)
        for (unsigned i = 0; i < p->nthreads; i++)
            hwloc_bitmap_free(p->cpus[i]);
    st_free(p->cpus);
    st_free(p->threads);
    st_free(p);
}

static st_rc_t plan_alloc(unsigned nthreads, place_plan_t **out, unsigned **order, st_err_t *err)
{
    place_plan_t *p = st_calloc(1, sizeof *p);

    if (p == NULL)
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    p->nthreads = nthreads;
    p->threads = st_calloc(nthreads, sizeof *p->threads);
    p->cpus = st_calloc(nthreads, sizeof *p->cpus);
    *order = st_calloc(nthreads, sizeof **order);
    if (p->threads == NULL || p->cpus == NULL || *order == NULL) {
        st_free(*order);
        *order = NULL;
        plan_free(p);
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    }
    *out = p;
    return ST_OK;
}

/* Fills thread i of p from core c. */
static st_rc_t fill_thread(place_plan_t *p, unsigned i, const core_t *c, place_bind_t bind,
                           st_err_t *err)
{
    place_thread_t *th = &p->threads[i];
    int first = hwloc_bitmap_first(c->cpus);

    p->cpus[i] = bind == PLACE_BIND_PU ? hwloc_bitmap_alloc() : hwloc_bitmap_dup(c->cpus);
    if (p->cpus[i] == NULL)
        return st_fail(err, ST_ENOMEM, "placement: out of memory");
    if (bind == PLACE_BIND_PU)
        hwloc_bitmap_only(p->cpus[i], (unsigned)first);
    th->core = c->obj->logical_index;
    th->core_os = c->obj->os_index;
    th->pu = (unsigned)first;
    th->npus = (unsigned)hwloc_bitmap_weight(p->cpus[i]);
    th->numa = c->numa;
    return ST_OK;
}

st_rc_t place_plan(const place_topo_t *t, const place_opts_t *o, place_plan_t **out, st_err_t *err)
{
    place_opts_t opts = o != NULL ? *o : place_opts_default();
    core_t *cores = NULL;
    unsigned ncores = 0, nthreads, *order = NULL;
    place_plan_t *p = NULL;
    st_rc_t rc;

    if (t == NULL || out == NULL)
        return st_fail(err, ST_EINVAL, "placement: no topology");
    if (opts.bind != PLACE_BIND_CORE && opts.bind != PLACE_BIND_PU)
        return st_fail(err, ST_EINVAL, "placement: unknown bind mode %d", (int)opts.bind);
    if (opts.threads > PLACE_MAX_THREADS)
        return st_fail(err, ST_ELIMIT, "threads %u: at most %d", opts.threads, PLACE_MAX_THREADS);
    if ((rc = usable_cores(t, opts.cpuset, opts.numa_node, &cores, &ncores, err)) != ST_OK)
        return rc;
    nthreads = opts.threads == 0 ? ncores : opts.threads;
    if (nthreads > PLACE_MAX_THREADS) {
        rc =
            st_fail(err, ST_ELIMIT, "placement: %u usable cores, at most %d threads: use --threads",
                    ncores, PLACE_MAX_THREADS);
        goto fail;
    }
    if ((rc = plan_alloc(nthreads, &p, &order, err)) != ST_OK)
        goto fail;
    p->t = t;
    p->ncores = ncores;
    p->oversubscribed = nthreads > ncores;
    if (nthreads < ncores) {
        if ((rc = spread(cores, ncores, nthreads, order, err)) != ST_OK)
            goto fail;
    } else {
        for (unsigned i = 0; i < nthreads; i++)
            order[i] = i % ncores;
    }
    for (unsigned i = 0; i < nthreads; i++)
        if ((rc = fill_thread(p, i, &cores[order[i]], opts.bind, err)) != ST_OK)
            goto fail;
    st_free(order);
    free_cores(cores, ncores);
    *out = p;
    return ST_OK;
fail:
    st_free(order);
    plan_free(p);
    free_cores(cores, ncores);
    return rc;
}

void place_plan_destroy(place_plan_t **self_p)
{
    if (self_p == NULL)
        return;
    plan_free(*self_p);
    *self_p = NULL;
}

unsigned place_plan_threads(const place_plan_t *p)
{
    return p->nthreads;
}

unsigned place_plan_cores(const place_plan_t *p)
{
    return p->ncores;
}

bool place_plan_oversubscribed(const place_plan_t *p)
{
    return p->oversubscribed;
}

const place_thread_t *place_plan_thread(const place_plan_t *p, unsigned i)
{
    return i < p->nthreads ? &p->threads[i] : NULL;
}

/* ---- binding ---- */

/* Best effort: binds the calling thread's memory to node `numa`. */
static void bind_memory(hwloc_topology_t topo, int numa, place_bound_t *b)
{
    const struct hwloc_topology_support *sup = hwloc_topology_get_support(topo);
    hwloc_bitmap_t nodes;

    if (hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) <= 1) {
        snprintf(b->why, sizeof b->why, "one numa node: memory not bound");
        return;
    }
    if (!sup->membind->set_thisthread_membind || !sup->membind->bind_membind) {
        snprintf(b->why, sizeof b->why, "memory binding not supported here");
        return;
    }
    if ((nodes = hwloc_bitmap_alloc()) == NULL) {
        snprintf(b->why, sizeof b->why, "memory not bound: out of memory");
        return;
    }
    hwloc_bitmap_only(nodes, (unsigned)numa);
    if (hwloc_set_membind(topo, nodes, HWLOC_MEMBIND_BIND,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) == 0)
        b->mem = true;
    else
        snprintf(b->why, sizeof b->why, "binding memory to numa node %d: %s", numa,
                 strerror(errno));
    hwloc_bitmap_free(nodes);
}

st_rc_t place_apply(const place_plan_t *p, unsigned thread, place_bound_t *bound, st_err_t *err)
{
    place_bound_t b = {.cpu = false, .mem = false, .why = ""};
    hwloc_topology_t topo;
    const struct hwloc_topology_support *sup;

    if (p == NULL || thread >= p->nthreads)
        return st_fail(err, ST_EINVAL, "placement: thread %u is not in the plan", thread);
    if (!p->t->this_machine)
        return st_fail(err, ST_EINVAL,
                       "placement: the plan is for another topology (synthetic or xml); "
                       "nothing bound");
    topo = p->t->topo;
    sup = hwloc_topology_get_support(topo);
    if (!sup->cpubind->set_thisthread_cpubind) {
        snprintf(b.why, sizeof b.why, "cpu binding not supported here: thread not pinned");
    } else if (hwloc_set_cpubind(topo, p->cpus[thread], HWLOC_CPUBIND_THREAD) != 0) {
        char list[128];
        int e = errno;

        list_string(p->cpus[thread], list, sizeof list);
        return st_fail(err, ST_EIO, "placement: binding thread %u to cpus %s: %s", thread, list,
                       strerror(e));
    } else {
        b.cpu = true;
    }
    if (b.cpu)
        bind_memory(topo, p->threads[thread].numa, &b);
    if (bound != NULL)
        *bound = b;
    return ST_OK;
}

/* ---- descriptions ---- */

st_rc_t place_describe(const place_plan_t *p, buf_t *b)
{
    st_rc_t rc = buf_printf(b, "placement: %u thread%s on %u core%s%s\n", p->nthreads,
                            p->nthreads == 1 ? "" : "s", p->ncores, p->ncores == 1 ? "" : "s",
                            p->oversubscribed ? ", oversubscribed: round-robin over cores" : "");

    for (unsigned i = 0; rc == ST_OK && i < p->nthreads; i++) {
        const place_thread_t *th = &p->threads[i];
        char list[128];

        list_string(p->cpus[i], list, sizeof list);
        rc = buf_printf(b, "thread %u: core %u (pu%s %s), numa %d\n", i, th->core,
                        th->npus == 1 ? "" : "s", list, th->numa);
    }
    return rc;
}

st_rc_t place_numa_nodes(const place_topo_t *t, const char *cpuset, int *ids, size_t cap, size_t *n,
                         st_err_t *err)
{
    core_t *cores = NULL;
    unsigned ncores = 0, nn;
    int *nodes;
    st_rc_t rc;

    if (t == NULL || n == NULL || (cap > 0 && ids == NULL))
        return st_fail(err, ST_EINVAL, "numa nodes: bad arguments");
    if ((rc = usable_cores(t, cpuset, -1, &cores, &ncores, err)) != ST_OK)
        return rc;
    if ((nodes = st_calloc(ncores, sizeof *nodes)) == NULL) {
        free_cores(cores, ncores);
        return st_fail(err, ST_ENOMEM, "numa nodes: out of memory");
    }
    nn = distinct_nodes(cores, ncores, nodes);
    for (unsigned i = 0; i < nn && i < cap; i++)
        ids[i] = nodes[i];
    *n = nn;
    st_free(nodes);
    free_cores(cores, ncores);
    return ST_OK;
}
