/* prep.c - the cache and the environment, opened beside the walk (see
 * prep.h). */
#include "cli/prep.h"

#include "cli/envcmd.h"
#include "common/alloc.h"

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

static void work(prep_t *p, FILE *out)
{
    p->cache = prep_open_cache(p->cfg_, out);
    p->env_ok_ = open_env(p, out);
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
    cas_close(&p->cache);
    libfind_destroy(&p->lf);
    env_free(&p->env);
    st_free(p->env_key);
    free(p->text_); /* open_memstream's, from malloc */
    *p = (prep_t){0};
}
