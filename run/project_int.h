/* project_int.h - what the files of the project stage share (see project.h).
 *
 * One model, struct project: every file with its scan results, resolved
 * imports and check results, and every module with its interface, filled
 * by the scans (project.c), the graph build (project.c) and the check jobs
 * (project_jobs.c), and read by the whole-run record and the report
 * (project_whole.c) and the graph output (project_graph.c).
 *
 * Memory: what the scans hand over and what the jobs produce is copied into
 * the project's arena under its lock; each job thread has its own arena for
 * the job's documents, reset after every job. Module interfaces are written
 * once, under the lock, before their component is marked done, and only read
 * by the jobs of components that depend on it, directly or not (comp_below
 * decides from the graph alone): those are handed out only after it is done,
 * under the same lock, so readers need no lock, and which interfaces a job
 * reads never depends on timing. The one thing threads share without the
 * lock is comp_below's memo (relaxed atomics; every value a true fact).
 *
 * Internal to run/project*.c: the shared functions are project__*, the rest
 * of each file static. */
#ifndef STRATA_RUN_PROJECT_INT_H
#define STRATA_RUN_PROJECT_INT_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/hmap.h"
#include "run/project.h"
#include "scheduler/graph.h"
#include "scheduler/resolve.h"
#include "worker/jobkey.h"
#include "worker/python/xmod.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PROJECT_ARENA_CHUNK ((size_t)1 << 20)

/* The version in check job keys: the release, the summary (scan result)
 * format the inputs embed, and the check job's documents. */
#define PROJECT_CHECK_VERSION                                                                      \
    STRATA_VERSION "+scan" JOBKEY_STR(SCAN_RESULT_VERSION) "+check" JOBKEY_STR(                    \
        CHECK_INPUT_VERSION) "." JOBKEY_STR(CHECK_RESULT_VERSION)

typedef struct {
    uint8_t kind, flags;
    bool has_as; /* `import a.b as x`: binds a.b, not a */
    uint32_t level;
    const char *module; /* as written, without the dots; in the project arena */
    const char *name;   /* the imported name of a from-import, else "" */
    res_kind_t res;
    const char *abs; /* the absolute module name ("" for __future__) */
    uint32_t target; /* module id for RES_PROJECT, else RES_NONE */
    uint32_t sub;    /* from-imports: module id of abs.name when that exists */
} pimport_t;

typedef struct {
    const char *path;
    bool have;    /* a scan finished for it */
    bool scanned; /* this run scanned it (not a cache hit) */
    bool has_key;
    bool transient; /* its scan ran out of time: no check of it is cached */
    digest_t key;
    span_t summary; /* the summary map's bytes; len 0: none */
    scan_diag_t *diags;
    size_t n_diags;
    uint32_t module;
    uint32_t next; /* the next file of the same module, RES_NONE at the end */
    pimport_t *imports;
    uint32_t n_imports;
    scan_diag_t *cdiags; /* the check's */
    size_t n_cdiags;
    check_pos_t *drop;
    size_t n_drop;
    const char *failed;  /* the check job failed: why (E902) */
    bool context;        /* not reported (project_set_context) */
    bool keyed;          /* hashed in this run's first phase (project_keyed) */
    const char *libname; /* a library file (run/project_lib.c): its module name; NULL: the
                            project's */
    bool decoded;        /* project__decode_imports ran: decode_rc says how it ended */
    st_rc_t decode_rc;
    digest_t key_hashed; /* the key it was hashed to then */
} pfile_t;

typedef struct {
    uint32_t first; /* first file, RES_NONE for a namespace package */
    span_t iface;   /* len 0: unknown */
    digest_t digest;
    /* the interface's module attributes that are project modules (kind-3
     * names), read once from it: name and module id */
    const char **ref_names;
    uint32_t *ref_mods;
    uint32_t n_refs;
} pmod_t;

struct project {
    bool whole_keyed;  /* project_keyed computed whole_key */
    bool whole_hit;    /* ... and found the run's diagnostics under it */
    bool whole_stored; /* ... or stored them under it */
    bool whole_ahead;  /* ... the hit read ahead (opts->ahead) */
    bool scan_failed;  /* a scan job failed: the run is not stored whole */
    digest_t whole_key;
    digest_t whole_remote_key; /* the team cache's: the environment without this host's
                                  times (project_opts_t.env_key_remote) */
    bool whole_remote;         /* the whole run came from the team cache */
    bool whole_remote_keyed;   /* whole_remote_key computed */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    arena_t *arena;
    pfile_t *files;
    size_t n;
    resolver_t *res;
    graph_t *graph;
    pmod_t *mods;
    uint32_t n_mods;
    _Atomic uint32_t *reach_memo; /* per component (comp_below, project_jobs.c); UINT32_MAX: none */
    /* library modules (project_lib.c) */
    size_t cap;             /* of files */
    size_t n_project;       /* files given to project_new (the rest are library files) */
    size_t lib_next;        /* the first file the next library round expands */
    hmap_t *lib_seen;       /* dotted name -> lib_kind_t + 1, every name asked */
    hmap_t *lib_tops;       /* the project's own top-level modules */
    bool lib_env_found;     /* an interpreter answered: a missing top-level is E0401 */
    bool lib_first;         /* the project is a standard library: its stdlib modules are
                               the stubs' (project_lib.c) */
    const char *lib_python; /* its path, for the E0401 message */
    hmap_t *replaced;       /* module names some file replaces in sys.modules */
};

/* ---- project.c: scans, resolution, the graph ------------------------------------- */

/* Copies n diagnostics into arena a; NULL when out of memory. */
scan_diag_t *project__copy_diags(arena_t *a, const scan_diag_t *d, size_t n);
/* Calls fn for every project module whose interface an import's names can
 * reach: the import's edges in the graph and the interfaces its check job
 * reads. */
void project__import_targets(const project_t *p, const pimport_t *im,
                             void (*fn)(void *ctx, uint32_t module), void *ctx);
/* Module table, resolution, graph, from the scans' summaries. Idempotent.
 * ST_ENOMEM, or the resolver's error. */
st_rc_t project__build(project_t *p, const project_opts_t *opts, st_err_t *err);

/* Decodes the "imports" of a file's summary into f->imports (kind, level,
 * module, name, flags of each), once: a second call gives the first one's
 * verdict. ST_ECORRUPT when they do not decode, ST_ENOMEM. */
st_rc_t project__decode_imports(project_t *p, pfile_t *f);

/* ---- project_lib.c: library modules --------------------------------------------- */

/* A module table of every file so far: project files under their roots,
 * library files under their finder's names (first when the project is a
 * standard library). ST_ENOMEM, or the resolver's error. */
st_rc_t project__table(project_t *p, const project_opts_t *opts, resolver_t **out, st_err_t *err);

/* After the graph's resolution of im gave res: what the environment says
 * when res is not a project module (RES_EXTERNAL for what it leaves open,
 * RES_MISSING for a top-level package it lacks, RES_UNRESOLVED below a
 * library package that lacks the name). res itself without library rounds. */
res_kind_t project__lib_verdict(const project_t *p, const pimport_t *im, res_kind_t res);
/* Whether some file replaces module m in sys.modules (project__build
 * gathers them). */
bool project__replaced(const project_t *p, uint32_t m);

/* ---- project_jobs.c: check jobs --------------------------------------------------- */

/* SHA-256 of a tag (with its NUL) and a name (with its NUL): the keys of
 * the records --explain reads. */
st_rc_t project__named_key(const char *tag, size_t tag_size, const char *name, digest_t *key);
/* Builds the graph and runs every component's check job (or fetches its
 * result from the cache) on opts->jobs threads, keeping the results in the
 * project. stats, when not NULL, gets the counts. ST_ENOMEM, ST_EIO when
 * cancelled; a failed job is not an error (its files get an E902). */
st_rc_t project__run_checks(project_t *self, const project_opts_t *opts, project_stats_t *stats,
                            st_err_t *err);

/* ---- project_whole.c: the whole run's diagnostics, the report ---------------------- */

/* Encodes every keyed file's final diagnostics, the record cached under
 * the whole run's key, into b (the caller frees it). ST_ENOMEM. */
st_rc_t project__whole_pack(const project_t *p, const project_opts_t *opts, buf_t *b);
/* Every file's diagnostics into the report: the scan's (less the settled
 * F405s), the check's, and an E902 when its check job failed. Errors are
 * report_add's. */
st_rc_t project__fill_report(project_t *p, report_t *report, st_err_t *err);

#endif
