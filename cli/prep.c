/* prep.c - the cache and the environment, opened beside the walk (see
 * prep.h). */
#include "cli/prep.h"

#include "cli/envcmd.h"
#include "common/alloc.h"
#include "run/whole_hint.h"

#define AHEAD_CHUNK ((size_t)2 << 20) /* a whole-run record of ~5,000 files fits */

#include <stdlib.h>
#include <string.h>

const char *prep_shared_dir(const cli_check_t *cfg)
{
    static char dir[4096];
    const char *env = getenv("STRATA_SHARED_CACHE_DIR"), *base;

    if (cfg->no_cache || cfg->durability == CAS_MEMORY)
        return NULL;
    if (env != NULL)
        return *env != '\0' ? env : NULL;
    if ((base = getenv("XDG_CACHE_HOME")) != NULL && base[0] == '/')
        return snprintf(dir, sizeof dir, "%s/strata", base) < (int)sizeof dir ? dir : NULL;
    if ((base = getenv("HOME")) != NULL && base[0] == '/')
        return snprintf(dir, sizeof dir, "%s/.cache/strata", base) < (int)sizeof dir ? dir : NULL;
    return NULL;
}

cas_t *prep_open_cache(const cli_check_t *cfg, FILE *warn)
{
    const char *dir = cas_dir_default(cfg->cache_dir);
    cas_opts_t opts;
    cas_t *cache = NULL;
    st_err_t err = {0};

    if (cfg->no_cache)
        return NULL;
    cas_opts_default(&opts);
    opts.durability = cfg->durability;
    opts.dir = cfg->durability == CAS_MEMORY ? NULL : dir;
    if (cas_open(&opts, &cache, &err) != ST_OK) {
        fprintf(warn, "strata: warning: cache %s: %s; going on without caching\n", dir, err.msg);
        return NULL;
    }
    return cache;
}

/* The Python environment of the run and its finder (cli/envcmd.h): false
 * (said on out) when a --python does not work. */
static bool open_env(prep_t *p, FILE *out)
{
    return envcmd_open(p->cfg_, "strata check", &p->env, &p->lf, &p->env_key, out);
}

/* The record the hint of this invocation names, with its library files
 * stat'ed (project_ahead_read); nothing without a cache on disk. */
static void read_ahead(prep_t *p)
{
    const cli_check_t *cfg = p->cfg_;
    const char *dir = cas_dir_default(cfg->cache_dir);

    if (!p->env_ok_ || !cas_has_disk(p->cache) ||
        whole_hint_id(cfg->paths, cfg->n_paths, cfg->roots, cfg->n_roots, &p->hint_id) != ST_OK)
        return;
    p->hint_id_ok = true;
    if ((p->hinted = whole_hint_load(dir, &p->hint_id, &p->hint_key)) && p->ahead_arena != NULL)
        project_ahead_read(p->cache, &p->hint_key, p->ahead_arena, &p->ahead);
}

static void work(prep_t *p, FILE *out)
{
    p->cache = prep_open_cache(p->cfg_, out);
    p->env_ok_ = open_env(p, out);
    read_ahead(p);
}

static void *thread_main(void *arg)
{
    prep_t *p = arg;

    work(p, p->msgs_);
    return NULL;
}

void prep_start(prep_t *p, const cli_check_t *cfg)
{
    *p = (prep_t){.cfg_ = cfg};
    /* the record read ahead is the thread's largest memory: its first
       chunk comes from this thread's heap, which is on huge pages
       (cli/heap.h), where the thread's own would fault page by page */
    if ((p->ahead_arena = arena_new(AHEAD_CHUNK)) != NULL && arena_alloc(p->ahead_arena, 1) == NULL)
        arena_destroy(&p->ahead_arena);
    /* the messages wait in memory; without room for them, no thread */
    if ((p->msgs_ = open_memstream(&p->text_, &p->len_)) == NULL)
        return;
    if (pthread_create(&p->thread_, NULL, thread_main, p) == 0)
        p->threaded_ = true;
}

/* Waits for the thread; what it said is then in text_[0..len_). */
static void join(prep_t *p)
{
    if (p->threaded_) {
        pthread_join(p->thread_, NULL);
        p->threaded_ = false;
    }
    if (p->msgs_ != NULL) {
        fclose(p->msgs_);
        p->msgs_ = NULL;
    }
}

bool prep_finish(prep_t *p, FILE *err)
{
    bool ran = p->threaded_;

    join(p);
    if (!ran && !p->finished_)
        work(p, err);
    else if (p->text_ != NULL)
        fwrite(p->text_, 1, p->len_, err);
    p->finished_ = true;
    return p->env_ok_;
}

void prep_free(prep_t *p)
{
    join(p);
    arena_destroy(&p->ahead_arena);
    cas_close(&p->cache);
    libfind_destroy(&p->lf);
    env_free(&p->env);
    st_free(p->env_key);
    free(p->text_); /* open_memstream's, from malloc */
    *p = (prep_t){0};
}
