/* batch.c - a coordinator batch from its SUBMIT to its DONE, on its own
 * thread: the run's stages (run/run.h: keys from the client's digests,
 * the whole-run lookup, the cache lookups, the scans on the cluster's
 * workers through coordinator/cluster.h, the graph and the checks), with
 * the daemon's own steps between them: NEED for the contents the cache
 * lacks, the UPLOADs (each blob decompressed and verified against its
 * digest before it is stored), a run slot, and the DONE's encoding.
 *
 * The main thread routes the batch's uploads to its inbox and sends what
 * it posts; both are under the daemon's lock. The batch's thread ends only
 * once its cluster back end has seen every scan call end, so that no
 * callback sees a freed batch. */
#include "coordinator/batch.h"

#include "coordinator/batch_env.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "coordinator/cluster.h"
#include "run/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

/* ---- a batch's messages (batch thread) -------------------------------------------- */

/* Hands b->out to the main thread for the batch's client. */
void batch__post(batch_t *b)
{
    daemon_t *dm = b->dm;
    msg_t *m = st_calloc(1, sizeof *m);

    if (m == NULL || b->out.data == NULL) {
        st_free(m);
        return; /* out of memory: the client times out */
    }
    m->who = b->p.who;
    m->data = b->out.data; /* moved */
    m->len = b->out.len;
    buf_init(&b->out);
    pthread_mutex_lock(&dm->lock);
    queue_push(&dm->outbox, &m->node);
    pthread_mutex_unlock(&dm->lock);
    calls_wake(dm->calls);
}

static void post_error_done(batch_t *b, const char *message)
{
    b->answered = true;
    if (daemon__encode_error_done(&b->out, message) == ST_OK)
        batch__post(b);
}

/* Whether the batch's client is gone or over its cap: the wait for its
 * uploads ends. Under dm->lock. */
static bool client_out(batch_t *b)
{
    return b->over_cap || atomic_load(&b->gone);
}

/* Waits (up to DAEMON_WAIT_MS) for an upload, the daemon to stop or the
 * client to be out, then takes the uploads into *to. */
static void wait_uploads(batch_t *b, queue_t *to)
{
    daemon_t *dm = b->dm;
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, DAEMON_WAIT_MS); /* b->cond's clock */

    pthread_mutex_lock(&dm->lock);
    while (b->uploads.n == 0 && !daemon__stopping(dm) && !client_out(b))
        if (pthread_cond_timedwait(&b->cond, &dm->lock, &until) == ETIMEDOUT)
            break;
    queue_move(to, &b->uploads);
    pthread_mutex_unlock(&dm->lock);
}

/* ---- a batch ----------------------------------------------------------------------- */

void batch_free(batch_t **bp)
{
    batch_t *b = *bp;

    if (b == NULL)
        return;
    run_t *run = atomic_load(&b->run);
    run_destroy(&run);
    progress_destroy(&b->progress);
    arena_destroy(&b->arena);
    arena_destroy(&b->work);
    daemon__msgs_free(&b->uploads);
    buf_free(&b->out);
    pthread_cond_destroy(&b->cond);
    st_free(b->files);
    st_free(b->sizes);
    st_free(b->needed);
    st_free(b->paths);
    st_free(b->roots);
    st_free(b->args);
    st_free(b->libs);
    st_free(b->p.submit);
    st_free(b);
    *bp = NULL;
}

static char *copy_text(arena_t *a, proto_str_t s)
{
    if (memchr(s.ptr, '\0', s.len) != NULL)
        return NULL;
    return arena_strndup(a, s.ptr, s.len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a path is listed twice (a project names each file once); true
 * when out of memory too. */
static bool has_duplicate(const char **paths, size_t n)
{
    const char **sorted = st_calloc(n == 0 ? 1 : n, sizeof *sorted);
    bool dup = sorted == NULL;

    if (sorted != NULL) {
        memcpy(sorted, paths, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_str);
        for (size_t i = 1; i < n && !dup; i++)
            dup = strcmp(sorted[i - 1], sorted[i]) == 0;
    }
    st_free(sorted);
    return dup;
}

static void on_check_cache_error(void *ctx, const st_err_t *err)
{
    (void)ctx;
    fprintf(stderr, "strata coordinator: warning: cache: %s\n", err->msg);
}

/* The batch's run: its files' content from the blob store, stopped with
 * the daemon. */
static bool batch_run_new(batch_t *b)
{
    run_opts_t o = {.files = b->files,
                    .n_files = b->n_files,
                    .source = RUN_FROM_BLOBS,
                    .max_file_bytes = b->max_file_bytes,
                    .jobs = b->dm->jobs,
                    .cache = b->dm->cache,
                    .roots = b->roots,
                    .n_roots = b->n_roots,
                    .args = b->args,
                    .n_args = b->n_args,
                    .whole = true,
                    .progress = b->progress,
                    .cancel = &b->dm->stopping,
                    .on_cache_error = on_check_cache_error};
    batch_env_opts(b, &o);
    run_t *run = run_new(&o, NULL);

    atomic_store(&b->run, run);
    return run != NULL;
}

/* Reads the SUBMIT into the batch. False (and an error DONE posted) when
 * it cannot be served. */
static bool batch_load(batch_t *b)
{
    proto_msg_t m;
    proto_file_t f;
    proto_str_t s;
    size_t i = 0;
    const char *why = NULL;

    if (proto_decode_client(b->p.submit, b->p.len, &m, NULL) != ST_OK) {
        post_error_done(b, "internal error: the SUBMIT could not be decoded again");
        return false;
    }
    b->n_files = m.count;
    b->n_roots = m.n_roots;
    b->n_args = m.n_args;
    b->arena = arena_new(0);
    b->work = arena_new(DAEMON_ARENA_CHUNK);
    b->files = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->files);
    b->sizes = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->sizes);
    b->needed = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->needed);
    b->paths = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->paths);
    b->roots = st_calloc(m.n_roots == 0 ? 1 : m.n_roots, sizeof *b->roots);
    b->args = st_calloc(m.n_args == 0 ? 1 : m.n_args, sizeof *b->args);
    if (b->arena == NULL || b->work == NULL || b->files == NULL || b->sizes == NULL ||
        b->needed == NULL || b->paths == NULL || b->roots == NULL || b->args == NULL)
        why = "the coordinator is out of memory";
    while (why == NULL && proto_next_file(&m, &f)) {
        run_file_t *rf = &b->files[i];
        if ((rf->path = copy_text(b->arena, f.path)) == NULL)
            why = "a path holds a NUL byte (or out of memory)";
        else if (f.kind == PROTO_KIND_EXTENSION && f.digest != NULL)
            why = "an extension module with content";
        rf->kind = f.kind == PROTO_KIND_EXTENSION ? SCAN_KIND_PY : (scan_kind_t)f.kind;
        rf->skip = f.kind == PROTO_KIND_EXTENSION; /* exists for imports: no scan */
        rf->size = f.size;
        b->sizes[i] = f.size;
        rf->has_digest = f.digest != NULL;
        if (f.digest != NULL)
            memcpy(rf->digest.b, f.digest, sizeof rf->digest.b);
        b->paths[i++] = rf->path;
    }
    for (size_t k = 0; why == NULL && proto_next_root(&m, &s); k++)
        if ((b->roots[k] = copy_text(b->arena, s)) == NULL)
            why = "a root holds a NUL byte (or out of memory)";
    for (size_t k = 0; why == NULL && proto_next_arg(&m, &s); k++)
        if ((b->args[k] = copy_text(b->arena, s)) == NULL)
            why = "an argument holds a NUL byte (or out of memory)";
    b->max_file_bytes =
        m.max_file_bytes == 0 || m.max_file_bytes > PROTO_MAX_INPUT ? 0 : m.max_file_bytes;
    if (b->max_file_bytes == 0)
        b->max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES;
    if (why == NULL && has_duplicate(b->paths, b->n_files))
        why = "a path given twice (or out of memory)";
    if (why == NULL && m.has_env)
        why = batch_env_load(b, &m.env);
    if (why == NULL && !batch_run_new(b))
        why = "the coordinator is out of memory";
    if (why != NULL) {
        post_error_done(b, why);
        return false;
    }
    return true;
}

static int cmp_digest_idx(const void *pa, const void *pb, void *ctx)
{
    const run_file_t *files = ctx;
    return memcmp(files[*(const size_t *)pa].digest.b, files[*(const size_t *)pb].digest.b, 32);
}

/* Posts NEED: one file per distinct digest that is not in CAS_BLOBS. */
static bool batch_need(batch_t *b)
{
    cas_t *cache = b->dm->cache;
    size_t *order = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *order);
    uint32_t *need = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *need);
    size_t n = 0, n_need = 0;
    bool ok = order != NULL && need != NULL;

    for (size_t i = 0; ok && i < b->n_files; i++)
        if (b->files[i].has_digest)
            order[n++] = i;
    if (ok)
        qsort_r(order, n, sizeof *order, cmp_digest_idx, b->files);
    for (size_t k = 0; ok && k < n; k++) {
        const run_file_t *f = &b->files[order[k]];
        span_t v;
        if (k > 0 && memcmp(b->files[order[k - 1]].digest.b, f->digest.b, 32) == 0)
            continue;
        arena_reset(b->work);
        if (cache != NULL && cas_get(cache, CAS_BLOBS, &f->digest, b->work, &v, NULL) == ST_OK)
            continue;
        b->needed[order[k]] = true;
        need[n_need++] = (uint32_t)order[k];
    }
    if (ok) {
        buf_reset(&b->out);
        ok = proto_encode_need(&b->out, need, n_need) == ST_OK;
    }
    if (ok) {
        /* before the NEED goes: the first UPLOAD may come at once */
        pthread_mutex_lock(&b->dm->lock);
        b->accepting = n_need > 0;
        pthread_mutex_unlock(&b->dm->lock);
        batch__post(b);
    }
    b->n_needed = n_need;
    st_free(order);
    st_free(need);
    if (!ok)
        post_error_done(b, "the coordinator is out of memory");
    return ok;
}

/* Whether zdata decompresses to exactly size bytes whose SHA-256 is
 * want, found through a small window: a frame that claims megabytes costs
 * no memory before its content is proven to be the file's. */
static bool blob_matches(span_t zdata, uint64_t size, const digest_t *want)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    digest_ctx_t *dc = digest_ctx_new();
    uint8_t window[64 * 1024];
    ZSTD_inBuffer in = {.src = zdata.ptr, .size = zdata.len, .pos = 0};
    uint64_t total = 0;
    size_t left = 1;
    digest_t dg;
    bool ok = dctx != NULL && dc != NULL;

    while (ok && left != 0) {
        ZSTD_outBuffer out = {.dst = window, .size = sizeof window, .pos = 0};
        left = ZSTD_decompressStream(dctx, &out, &in);
        if (ZSTD_isError(left) || (total += out.pos) > size ||
            digest_ctx_update(dc, window, out.pos) != ST_OK)
            ok = false;
        else if (left != 0 && out.pos == 0 && in.pos == in.size)
            ok = false; /* the frame ends before its content */
    }
    ok = ok && in.pos == in.size && total == size && digest_ctx_final(dc, &dg) == ST_OK &&
         memcmp(dg.b, want->b, sizeof dg.b) == 0;
    ZSTD_freeDCtx(dctx);
    digest_ctx_destroy(&dc);
    return ok;
}

/* The digest, size and needed flag of NEED index i: a file of the SUBMIT
 * list, or a library file the client gave since; false past both. */
static bool blob_slot(batch_t *b, uint32_t i, const digest_t **digest, uint64_t *size,
                      bool **needed)
{
    if (i < b->n_files) {
        *digest = &b->files[i].digest;
        *size = b->sizes[i];
        *needed = &b->needed[i];
        return true;
    }
    if (i - b->n_files < b->n_libs) {
        batch_lib_t *l = &b->libs[i - b->n_files];
        *digest = &l->digest;
        *size = l->size;
        *needed = &l->needed;
        return true;
    }
    return false;
}

/* Verifies one blob, decompresses it and stores it. */
static const char *store_blob(batch_t *b, const proto_blob_t *blob)
{
    cas_t *cache = b->dm->cache;
    const digest_t *want;
    uint64_t size;
    bool *needed;
    uint8_t *raw;
    size_t got;
    digest_t dg;
    unsigned long long fsize;

    if (!blob_slot(b, blob->index, &want, &size, &needed) || !*needed)
        return "a blob that was not asked for";
    if (blob->raw_size != size || blob->raw_size > b->max_file_bytes)
        return "a blob whose size is not the one submitted";
    fsize = ZSTD_getFrameContentSize(blob->zdata.ptr, blob->zdata.len);
    if (fsize == ZSTD_CONTENTSIZE_ERROR ||
        (fsize != ZSTD_CONTENTSIZE_UNKNOWN && fsize != blob->raw_size))
        return "a blob that is not a zstd frame of its size";
    if (!blob_matches(blob->zdata, blob->raw_size, want))
        return "a blob whose content does not match its digest";
    if ((raw = st_malloc(blob->raw_size == 0 ? 1 : (size_t)blob->raw_size)) == NULL)
        return "out of memory";
    got = ZSTD_decompress(raw, (size_t)blob->raw_size, blob->zdata.ptr, blob->zdata.len);
    if (ZSTD_isError(got) || got != blob->raw_size || digest_sha256(raw, got, &dg) != ST_OK ||
        memcmp(dg.b, want->b, 32) != 0) {
        st_free(raw);
        return "a blob whose content does not match its digest";
    }
    if (cache == NULL || cas_put(cache, CAS_BLOBS, &dg, raw, got, false, NULL) != ST_OK) {
        st_free(raw);
        return "the coordinator cannot store a blob";
    }
    st_free(raw);
    *needed = false;
    b->n_needed--;
    b->uploaded++;
    return NULL;
}

/* One UPLOAD from the inbox (decoded again: the main thread only looked
 * at its type). */
static void on_upload(batch_t *b, zmq_msg_t *zm)
{
    proto_msg_t m;
    proto_blob_t blob;
    const char *why = NULL;

    if (b->rc != ST_OK || b->n_needed == 0)
        return; /* not waiting for blobs: dropped */
    if (proto_decode_client(zmq_msg_data(zm), zmq_msg_size(zm), &m, NULL) != ST_OK ||
        m.type != PROTO_UPLOAD)
        return;
    size_t before = b->uploaded;
    while (why == NULL && proto_next_blob(&m, &blob))
        why = store_blob(b, &blob);
    if (b->uploaded > before) /* only progress keeps a batch waiting for uploads */
        b->last_upload = clock_ms();
    if (why != NULL) {
        fprintf(b->dm->log, "strata coordinator: %s: upload dropped: %s\n", b->p.name, why);
        b->rc = st_fail(&b->err, ST_ECORRUPT, "upload refused: %s", why);
    }
}

/* One turn of the wait for the client (up to DAEMON_WAIT_MS): its uploads
 * stored, a LIBFILES moved to *answer when answer is given and *answer is
 * NULL (any other is dropped). False when the wait ends: the client went
 * over its cap (b->rc), is gone or fell silent for DAEMON_UPLOAD_IDLE_MS
 * (logged; *dropped set: nobody to answer). */
static bool inbox_turn(batch_t *b, zmq_msg_t **answer, bool *dropped)
{
    daemon_t *dm = b->dm;
    queue_t q;
    queue_node_t *n;
    size_t taken = 0, got = 0;
    bool over;

    queue_init(&q);
    wait_uploads(b, &q);
    while ((n = queue_pop(&q)) != NULL) {
        msg_t *k = QUEUE_ENTRY(n, msg_t, node);
        uint32_t v, t;
        if (answer != NULL && *answer == NULL &&
            proto_peek(zmq_msg_data(k->zm), zmq_msg_size(k->zm), &v, &t) && t == PROTO_LIBFILES) {
            *answer = k->zm; /* moved */
            k->zm = NULL;
        } else {
            on_upload(b, k->zm);
        }
        taken += k->len;
        got++;
        daemon__msg_free(k);
    }
    pthread_mutex_lock(&dm->lock);
    b->inbox_bytes -= taken;
    over = b->over_cap;
    pthread_mutex_unlock(&dm->lock);
    if (over) {
        b->rc = st_fail(&b->err, ST_ELIMIT,
                        "the uploads came faster than the coordinator stores them, over this "
                        "client's limit of %llu bytes waiting (--max-client-bytes)",
                        (unsigned long long)dm->client_bytes);
        return false;
    }
    if (atomic_load(&b->gone)) {
        fprintf(dm->log, "strata coordinator: %s: client gone or not reading; batch dropped\n",
                b->p.name);
        *dropped = true;
        return false;
    }
    if (got == 0 && clock_ms() - b->last_upload > DAEMON_UPLOAD_IDLE_MS) {
        fprintf(dm->log, "strata coordinator: %s: no %s for %d s; batch dropped\n", b->p.name,
                answer != NULL ? "answer to a library lookup" : "upload",
                DAEMON_UPLOAD_IDLE_MS / 1000);
        *dropped = true;
        return false;
    }
    return true;
}

void batch__set_accepting(batch_t *b, bool on)
{
    pthread_mutex_lock(&b->dm->lock);
    b->accepting = on;
    pthread_mutex_unlock(&b->dm->lock);
}

bool batch__uploads(batch_t *b, bool *dropped)
{
    daemon_t *dm = b->dm;
    bool ok = true;

    *dropped = false;
    b->last_upload = clock_ms();
    while (ok && b->n_needed > 0 && b->rc == ST_OK && !daemon__stopping(dm))
        ok = inbox_turn(b, NULL, dropped);
    batch__set_accepting(b, false);
    return ok && b->rc == ST_OK && !daemon__stopping(dm);
}

bool batch__await_answer(batch_t *b, zmq_msg_t **answer, bool *dropped)
{
    daemon_t *dm = b->dm;
    bool ok = true;

    *answer = NULL;
    *dropped = false;
    b->last_upload = clock_ms();
    while (ok && *answer == NULL && b->rc == ST_OK && !daemon__stopping(dm))
        ok = inbox_turn(b, answer, dropped);
    return ok && *answer != NULL && b->rc == ST_OK && !daemon__stopping(dm);
}

/* Takes the uploads until every needed blob is in; false when the client
 * fell silent or is gone (the batch is dropped), an upload was refused
 * (b->rc, also when over the client's cap) or the daemon stops. */
static bool batch_uploads(batch_t *b)
{
    bool dropped, ok = batch__uploads(b, &dropped);

    if (dropped)
        b->answered = true; /* nobody to answer */
    return ok;
}

/* ---- the report as a DONE (batch thread) ----------------------------------------------- */

/* Paths sorted, for finding a report path's index. */
typedef struct {
    const char *path;
    uint32_t index;
} pidx_t;

static int cmp_pidx(const void *a, const void *b)
{
    return strcmp(((const pidx_t *)a)->path, ((const pidx_t *)b)->path);
}

typedef struct {
    proto_batch_t batch;
    const pidx_t *idx;
    size_t n;
    arena_t *a;
} done_ctx_t;

static st_rc_t add_file_to_done(void *ctx, const char *path, const scan_diag_t *diags, size_t n,
                                st_err_t *err)
{
    done_ctx_t *dc = ctx;
    pidx_t key = {.path = path};
    const pidx_t *hit = bsearch(&key, dc->idx, dc->n, sizeof *dc->idx, cmp_pidx);
    proto_diag_t *pd;
    st_rc_t rc;

    if (hit == NULL)
        return st_fail(err, ST_EINTERNAL, "a diagnostic for a file not submitted: %s", path);
    arena_reset(dc->a);
    if ((pd = arena_calloc(dc->a, n == 0 ? 1 : n, sizeof *pd)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(diags[i].code), ml = strlen(diags[i].message);
        pd[i] = (proto_diag_t){
            .line = diags[i].line,
            .col = diags[i].col,
            .code = {diags[i].code, (uint32_t)(cl > PROTO_MAX_CODE ? PROTO_MAX_CODE : cl)},
            .message = {diags[i].message, (uint32_t)(ml > PROTO_MAX_TEXT ? PROTO_MAX_TEXT : ml)}};
    }
    if ((rc = proto_done_file(&dc->batch, hit->index, pd, n)) != ST_OK)
        return st_fail(err, rc, "the results are too large for one message");
    return ST_OK;
}

/* The report as a DONE, posted. */
static void post_done(batch_t *b, report_t *report, const proto_stats_t *st)
{
    pidx_t *idx = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *idx);
    done_ctx_t dc = {.a = arena_new(0)};
    st_err_t err = {0};
    st_rc_t rc;

    if (idx == NULL || dc.a == NULL) {
        post_error_done(b, "the coordinator is out of memory");
    } else {
        for (size_t i = 0; i < b->n_files; i++)
            idx[i] = (pidx_t){.path = b->files[i].path, .index = (uint32_t)i};
        qsort(idx, b->n_files, sizeof *idx, cmp_pidx);
        dc.idx = idx;
        dc.n = b->n_files;
        buf_reset(&b->out);
        rc = proto_done_begin(&dc.batch, &b->out, PROTO_DONE_OK, "", st);
        if (rc == ST_OK)
            rc = report_each(report, add_file_to_done, &dc, &err);
        if (rc != ST_OK) {
            post_error_done(b, err.msg[0] != '\0' ? err.msg : "out of memory");
        } else {
            proto_batch_end(&dc.batch);
            b->answered = true;
            batch__post(b);
        }
    }
    arena_destroy(&dc.a);
    st_free(idx);
}

/* The graph and check stages (on the cluster back end c), then DONE. */
static void batch_check(batch_t *b, run_t *run, backend_t *c)
{
    static const report_rules_t all = {0};
    report_t *report;
    run_stats_t rs;
    backend_stats_t cs;
    proto_stats_t st;
    st_err_t err = {0};

    if ((report = report_new(&all)) == NULL) {
        post_error_done(b, "the coordinator is out of memory");
        return;
    }
    if (run_check(run, report, &err) != ST_OK) {
        char message[ST_ERR_MSG_MAX + 32];
        snprintf(message, sizeof message, "check: %s", err.msg);
        if (!daemon__stopping(b->dm))
            post_error_done(b, message);
        report_destroy(&report);
        return;
    }
    if (daemon__stopping(b->dm)) { /* its check jobs were refused: not the results */
        report_destroy(&report);
        return;
    }
    run_stats(run, &rs);
    c->ops->stats(c->self, &cs);
    st = (proto_stats_t){.files = b->n_files,
                         .uploaded = b->uploaded,
                         .scanned = rs.scanned,
                         .cached = rs.cached,
                         .checked = rs.project.checked,
                         .failed = rs.failed + rs.project.failed};
    post_done(b, report, &st);
    fprintf(b->dm->log,
            "strata coordinator: batch from %s: %zu files, %zu uploaded, %zu scanned, %zu "
            "cached, %zu checks (%zu cached, %zu on workers, %zu here)%s, %llu ms\n",
            b->p.name, b->n_files, b->uploaded, rs.scanned, rs.cached, rs.project.checked,
            rs.project.cached, cs.checks_sent, cs.checks_here,
            rs.project.whole ? ", whole run from the cache" : "",
            (unsigned long long)(clock_ms() - b->started));
    fflush(b->dm->log);
    daemon__metrics_batch(clock_ms() - b->started);
    report_destroy(&report);
}

/* The lookups, then the misses on the cluster (or here, for those the
 * calls give back). */
static void batch_scan(batch_t *b, run_t *run, backend_t *c)
{
    st_err_t err = {0};
    st_rc_t rc;

    if ((rc = run_lookup(run, &err)) == ST_OK)
        rc = run_scan(run, c, &err);
    /* failed jobs are E902s in the report; stopping ends the batch anyway */
    if (rc != ST_OK && rc != ST_EINTERNAL && !daemon__stopping(b->dm)) {
        b->rc = rc;
        b->err = err;
    }
}

bool batch__slot_take(batch_t *b)
{
    daemon_t *dm = b->dm;
    bool first;

    pthread_mutex_lock(&dm->lock);
    if (b->running) { /* a batch holds one slot at most */
        pthread_mutex_unlock(&dm->lock);
        return true;
    }
    b->wants_run = true;
    for (;;) {
        first = true;
        for (size_t i = 0; i < dm->n_active && first; i++)
            first = !(dm->active[i]->wants_run && dm->active[i]->seq < b->seq);
        if ((first && dm->running < DAEMON_MAX_RUNNING) || daemon__stopping(dm))
            break;
        struct timespec until = clock_deadline(CLOCK_MONOTONIC, DAEMON_WAIT_MS);
        pthread_cond_timedwait(&dm->runs, &dm->lock, &until);
    }
    b->wants_run = false;
    b->running = !daemon__stopping(dm);
    dm->running += b->running;
    pthread_cond_broadcast(&dm->runs); /* the next in line looks again */
    pthread_mutex_unlock(&dm->lock);
    return b->running;
}

void batch__slot_give(batch_t *b)
{
    daemon_t *dm = b->dm;

    pthread_mutex_lock(&dm->lock);
    if (b->running) {
        b->running = false;
        dm->running--;
    }
    b->wants_run = false;
    pthread_cond_broadcast(&dm->runs);
    pthread_mutex_unlock(&dm->lock);
}

/* A batch from SUBMIT to DONE, on its thread: the run's stages, with the
 * daemon's own steps (NEED, uploads, a run slot, DONE) between them. */
void *batch_main(void *arg)
{
    batch_t *b = arg;
    daemon_t *dm = b->dm;
    backend_t cluster = {0};
    run_t *run;

    if (!batch_load(b))
        goto out;
    run = atomic_load(&b->run);
    if (cluster_backend_new(dm->calls, dm->jobs, &cluster, &b->err) != ST_OK) {
        post_error_done(b, "the coordinator is out of memory");
        goto out;
    }
    (void)run_digest(run, NULL);
    /* known whole: the blobs are still asked for when missing (a client
       proves it has the content it names), then nothing runs */
    b->whole = run_lookup_whole(run);
    if (!batch_need(b) || !batch_uploads(b) || !batch__slot_take(b))
        goto out;
    if (!b->whole)
        batch_scan(b, run, &cluster);
    if (b->rc == ST_OK && !daemon__stopping(dm))
        batch_check(b, run, &cluster);
out:
    batch__slot_give(b);
    if (!b->answered && b->rc != ST_OK && !daemon__stopping(dm))
        post_error_done(b, b->err.msg);
    if (!b->answered && daemon__stopping(dm))
        post_error_done(b, "the coordinator is stopping; submit again");
    /* its scan calls end (each does, at the latest on calls_shutdown)
       before the batch may be freed */
    backend_stop(&cluster, NULL);
    atomic_store(&b->over, true);
    calls_wake(dm->calls); /* the main thread joins it */
    return NULL;
}
