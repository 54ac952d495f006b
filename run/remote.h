/* remote.h - the team cache: a third tier behind memory and disk, on a
 * server that speaks Bazel's HTTP remote-cache protocol (bazel-remote,
 * nginx with WebDAV, BuildBuddy and Buildbarn front ends).
 *
 * A result under the job key K is stored as two entries: a blob under
 * /cas/<SHA-256 of the blob>, which holds a header (magic, K, the value's
 * length) and the value zstd-compressed, and an action result under
 * /ac/<SHA-256("strata-ac\0" || K)>: a Remote Execution API ActionResult
 * (run/remote_ac.proto) whose one output file names the blob by digest
 * and size, so that servers which check action results accept it, and no
 * entry of a build can share a key with one of strata's. A value is used
 * only when the blob's SHA-256 and size are the ones the action result
 * names, its header names K, and it decompresses to the length it claims:
 * a server returning wrong, truncated or foreign bytes gives a miss (said
 * once), never a wrong answer. What a digest cannot prove is that the
 * uploader computed the entry honestly: write access to the server is the
 * trust boundary.
 *
 * A slow, dead or failing server never fails a run: every request is
 * bounded by the run's time budget (all the time the run waits on the
 * server, added up), three failures in a row, a timeout or a refused
 * credential open the circuit (the rest of the run goes on with the local
 * tiers, said once), and what the uploader has not sent when the run ends
 * waits at most the budget's remainder, then is dropped and counted.
 *
 * libcurl does the HTTP (loaded on the first request: run/curldl.h); an
 * rcache_t that is opened but never asked costs nothing. Thread-safe. */
#ifndef STRATA_RUN_REMOTE_H
#define STRATA_RUN_REMOTE_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rcache rcache_t;

/* Default total wait on the server per run, and the largest value sent. */
#define RCACHE_BUDGET_MS_DEFAULT 2000u
#define RCACHE_MAX_UPLOAD_DEFAULT ((size_t)16 << 20)
/* The tally's file, below the cache directory's stat/. */
#define RCACHE_TALLY_FILE "remote-tally"

typedef struct {
    const char *url;     /* http:// or https://, host, optional port and path prefix */
    const char *auth;    /* the Authorization header's value; NULL: none (copied) */
    const char *ca_file; /* PEM certificates to trust for https; NULL: the system's */
    bool upload;         /* send the results the run computes */
    uint32_t budget_ms;  /* 0: RCACHE_BUDGET_MS_DEFAULT */
    size_t max_upload;   /* values larger than this are not sent; 0: the default */
    FILE *log;           /* warnings (each kind once); NULL: none */
} rcache_opts_t;

typedef struct {
    uint64_t hits, misses; /* lookups answered / not */
    uint64_t errors;       /* requests that failed, timed out, or returned bad bytes */
    uint64_t corrupt;      /* of those: entries that failed verification */
    uint64_t bytes_down;   /* bytes received */
    uint64_t uploaded;     /* results sent (both entries stored) */
    uint64_t bytes_up;     /* bytes sent */
    uint64_t skipped;      /* results over the upload size cap */
    uint64_t dropped;      /* results not sent: the circuit open, the budget spent */
    uint64_t wait_ms;      /* time the run waited on the server */
    bool open;             /* the circuit opened: the server was given up on */
} rcache_stats_t;

/* Checks the URL: ST_EINVAL with a message fit for "strata check: " when
 * it is not http(s)://HOST[:PORT][/PATH] (credentials in it are refused:
 * they would be printed; they go in the Authorization header). */
st_rc_t rcache_check_url(const char *url, st_err_t *err);

/* A client for opts->url (checked as rcache_check_url). No request is made
 * and libcurl is not loaded until the first lookup or upload. */
st_rc_t rcache_open(const rcache_opts_t *opts, rcache_t **out, st_err_t *err);

/* Waits for the uploads queued (at most what is left of the budget; what
 * is not sent by then is dropped and counted); no upload is taken after.
 * Call it once the run has computed everything. Accepts NULL. */
void rcache_finish(rcache_t *self);

/* rcache_finish, then frees. Accepts NULL; sets *self_p NULL. */
void rcache_close(rcache_t **self_p);

/* n lookups, made in parallel: values[i] is the value under keys[i] (in
 * arena a) or {NULL, 0}; *hits counts the others. Never fails: a server
 * that cannot answer gives misses. */
void rcache_get_many(rcache_t *self, const digest_t *keys, size_t n, arena_t *a, span_t *values,
                     size_t *hits);

/* One lookup; true with *value (in a) on a hit. */
bool rcache_get(rcache_t *self, const digest_t *key, arena_t *a, span_t *value);

/* Queues value[0..len) under key for upload (a copy) when uploads are on;
 * a background thread sends it. Never blocks on the network. */
void rcache_put(rcache_t *self, const digest_t *key, const void *value, size_t len);

/* Whether lookups are still made (the circuit is closed); false for NULL. */
bool rcache_usable(const rcache_t *self);

/* Counters so far. */
void rcache_stats(rcache_t *self, rcache_stats_t *out);

/* What the runs of a cache directory got from team caches, kept in
 * `stat/remote-tally` of the directory (strata cache stats prints it;
 * strata cache clear removes it). */
typedef struct {
    uint64_t runs;      /* runs that used a team cache */
    uint64_t opened;    /* of which gave the server up */
    rcache_stats_t sum; /* their counters added up (open, wait_ms: the sums' meaning) */
    char url[256];      /* the last run's server */
} rcache_tally_t;

/* Adds a run's counters to dir's tally (read, added, replaced; two runs
 * ending at once may lose one's). Failures are ignored: it is a report. */
void rcache_tally_add(const char *dir, const char *url, const rcache_stats_t *run);

/* dir's tally; false (out zeroed) when there is none or it does not read. */
bool rcache_tally_load(const char *dir, rcache_tally_t *out);

/* The URL as it may be shown (no query, no credentials: the URL was
 * checked to have none). */
const char *rcache_url(const rcache_t *self);

/* The blob stored for (key, value), for tests: header and zstd frame, in
 * a. ST_ENOMEM. */
st_rc_t rcache_blob_encode(const digest_t *key, const void *value, size_t len, arena_t *a,
                           span_t *blob);

/* The value of blob when it is one for key (in a); ST_ECORRUPT otherwise. */
st_rc_t rcache_blob_decode(const digest_t *key, span_t blob, arena_t *a, span_t *value);

/* The /ac/ entry naming a blob (its SHA-256 hex and size), packed into a;
 * and back: ST_ECORRUPT unless data is an ActionResult with strata's one
 * output file and a well-formed digest. */
st_rc_t rcache_ac_encode(const char hash[DIGEST_HEX_LEN + 1], uint64_t size, arena_t *a,
                         span_t *out);
st_rc_t rcache_ac_decode(span_t data, char hash[DIGEST_HEX_LEN + 1], uint64_t *size);

/* The /ac/ key of a job key. */
void rcache_ac_key(const digest_t *key, digest_t *out);

#endif
