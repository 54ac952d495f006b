/* cachecmd.c - the actions of `strata cache`.
 *
 * Each action opens the store, does one thing and closes it, so it can run
 * next to a `strata check` using the same directory (the store is safe for
 * several processes). A missing directory reads as an empty cache rather
 * than being created: `strata cache stats` in the wrong directory should
 * not leave a cache behind. */
#include "cli/cachecmd.h"

#include "common/cas/cas.h"
#include "cli/options.h"
#include "run/remote.h"
#include "run/statidx.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

enum { CACHECMD_OK = 0, CACHECMD_USAGE = 2 };

/* "1.5 MiB" style, for people; exact bytes are printed next to it. */
static void human_bytes(uint64_t n, char *out, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%llu B", (unsigned long long)n);
    else
        snprintf(out, size, "%.1f %s", v, units[u]);
}

static void print_tier(FILE *out, const char *name, const cas_tier_stats_t *t)
{
    char human[32];
    uint64_t lookups = t->hits + t->misses;

    human_bytes(t->bytes, human, sizeof human);
    fprintf(out, "%s:\n", name);
    fprintf(out, "  entries:     %llu\n", (unsigned long long)t->entries);
    fprintf(out, "  bytes:       %llu (%s)\n", (unsigned long long)t->bytes, human);
    if (lookups == 0)
        fprintf(out, "  hit rate:    - (no lookups)\n");
    else
        fprintf(out, "  hit rate:    %.1f%% (%llu hits, %llu misses)\n",
                100.0 * (double)t->hits / (double)lookups, (unsigned long long)t->hits,
                (unsigned long long)t->misses);
    fprintf(out, "  evictions:   %llu\n", (unsigned long long)t->evictions);
}

static int do_stats(cas_t *cache, const char *dir, FILE *out)
{
    cas_stats_t st;
    rcache_tally_t t;

    cas_stats(cache, &st);
    fprintf(out, "cache: %s\n", dir);
    print_tier(out, "memory tier", &st.mem);
    print_tier(out, "disk tier", &st.disk);
    fprintf(out, "disk reads:      %llu\n", (unsigned long long)st.disk_reads);
    fprintf(out, "corruptions:     %llu\n", (unsigned long long)st.corruptions);
    fprintf(out, "databases reset: %llu\n", (unsigned long long)st.databases_reset);
    if (rcache_tally_load(dir, &t)) {
        char down[32], up[32];
        uint64_t lookups = t.sum.hits + t.sum.misses;
        human_bytes(t.sum.bytes_down, down, sizeof down);
        human_bytes(t.sum.bytes_up, up, sizeof up);
        fprintf(out, "remote tier (%llu runs, the last with %s):\n", (unsigned long long)t.runs,
                t.url);
        if (lookups == 0)
            fprintf(out, "  hit rate:    - (no lookups)\n");
        else
            fprintf(out, "  hit rate:    %.1f%% (%llu hits, %llu misses)\n",
                    100.0 * (double)t.sum.hits / (double)lookups, (unsigned long long)t.sum.hits,
                    (unsigned long long)t.sum.misses);
        fprintf(out, "  errors:      %llu (%llu entries that failed verification)\n",
                (unsigned long long)t.sum.errors, (unsigned long long)t.sum.corrupt);
        fprintf(out, "  fetched:     %llu bytes (%s)\n", (unsigned long long)t.sum.bytes_down,
                down);
        fprintf(out,
                "  uploaded:    %llu results, %llu bytes (%s); %llu over the size cap, %llu "
                "not sent\n",
                (unsigned long long)t.sum.uploaded, (unsigned long long)t.sum.bytes_up, up,
                (unsigned long long)t.sum.skipped, (unsigned long long)t.sum.dropped);
        fprintf(out, "  given up:    in %llu runs; %llu ms waited in all\n",
                (unsigned long long)t.opened, (unsigned long long)t.sum.wait_ms);
    }
    return CACHECMD_OK;
}

/* The action itself on an open store. */
static int run_action(const cli_cache_t *c, cas_t *cache, const char *dir, FILE *out, FILE *errout)
{
    uint64_t checked = 0, removed = 0;
    st_err_t err = {0};

    switch (c->action) {
    case CLI_CACHE_STATS:
        return do_stats(cache, dir, out);
    case CLI_CACHE_VERIFY:
        if (cas_verify(cache, &checked, &removed, &err) != ST_OK)
            break;
        fprintf(out, "verified %s: %llu entries checked, %llu corrupt removed\n", dir,
                (unsigned long long)checked, (unsigned long long)removed);
        return CACHECMD_OK;
    case CLI_CACHE_GC:
        if (cas_gc(cache, c->max_size, &removed, &err) != ST_OK)
            break;
        fprintf(out, "gc %s: %llu entries evicted (limit %llu bytes)\n", dir,
                (unsigned long long)removed, (unsigned long long)c->max_size);
        return CACHECMD_OK;
    case CLI_CACHE_CLEAR:
        /* the stat indexes and whole-run hints too: after a clear nothing
           of the directory's speaks for a file (they are only shortcuts) */
        if (cas_clear(cache, &err) != ST_OK || statidx_clear(dir, &removed, &err) != ST_OK)
            break;
        fprintf(out, "cleared %s\n", dir);
        return CACHECMD_OK;
    }
    fprintf(errout, "strata cache: %s: %s\n", dir, err.msg[0] != '\0' ? err.msg : "failed");
    return CACHECMD_USAGE;
}

/* What to say when the directory does not exist (nothing is created). */
static int on_missing_dir(const cli_cache_t *c, const char *dir, FILE *out)
{
    switch (c->action) {
    case CLI_CACHE_STATS:
        fprintf(out, "cache: %s (does not exist: no entries)\n", dir);
        break;
    case CLI_CACHE_VERIFY:
        fprintf(out, "verified %s: 0 entries checked, 0 corrupt removed (no cache)\n", dir);
        break;
    case CLI_CACHE_GC:
        fprintf(out, "gc %s: 0 entries evicted (no cache)\n", dir);
        break;
    case CLI_CACHE_CLEAR:
        fprintf(out, "cleared %s (no cache)\n", dir);
        break;
    }
    return CACHECMD_OK;
}

int cachecmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
    cli_cache_t c;
    cas_opts_t opts;
    cas_t *cache = NULL;
    st_err_t err = {0};
    struct stat st;
    const char *dir;
    int status;

    if (cli_parse_cache(argc, argv, &c, &err) != ST_OK) {
        fprintf(errout, "strata cache: %s\nTry 'strata cache --help'.\n", err.msg);
        return CACHECMD_USAGE;
    }
    if (c.help) {
        fputs(cli_cache_usage(), out);
        return CACHECMD_OK;
    }
    dir = cas_dir_default(c.cache_dir);
    if (stat(dir, &st) != 0 && errno == ENOENT)
        return on_missing_dir(&c, dir, out);
    cas_opts_default(&opts);
    opts.dir = dir;
    opts.durability = CAS_STRICT; /* what maintenance does must stick */
    if (cas_open(&opts, &cache, &err) != ST_OK) {
        fprintf(errout, "strata cache: %s: %s\n", dir, err.msg);
        return CACHECMD_USAGE;
    }
    cas_stats_t cs;
    cas_stats(cache, &cs);
    if (!cs.disk_enabled) {
        fprintf(errout, "strata cache: %s: cannot open the cache's database\n", dir);
        cas_close(&cache);
        return CACHECMD_USAGE;
    }
    status = run_action(&c, cache, dir, out, errout);
    cas_close(&cache);
    return status;
}
