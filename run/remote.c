/* remote.c - the team cache over HTTP (run/remote.h says what it stores and
 * why it can be trusted as far as it is).
 *
 * Requests go through libcurl's multi interface, RC_PARALLEL at a time on
 * connections kept alive between batches: a client (a multi handle and its
 * easy handles) is taken from a pool for each batch, so the check jobs'
 * threads and the uploader each have their own. A lookup is two rounds,
 * every key's /ac/ entry, then the blobs they name. Uploads are queued by
 * rcache_put and sent by one thread, the blobs first and then the action
 * results that name them (a server that checks action results finds the
 * blob there). */
#include "run/remote.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/cas/cas.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/file.h"
#include "common/metrics.h"
#include "run/curldl.h"
#include "run/statidx.h"
#include "run/remote_ac.pb-c.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <zstd.h>

/* Requests in flight per client. */
#define RC_PARALLEL 16
/* Uploads taken from the queue at a time, and their most bytes (one larger
 * result goes alone). */
#define RC_UPLOAD_BATCH 64
#define RC_UPLOAD_BATCH_BYTES ((size_t)32 << 20)
/* The most bytes the upload queue holds; puts beyond are dropped. */
#define RC_QUEUE_MAX ((size_t)256 << 20)
/* An action result strata reads is a few hundred bytes. */
#define RC_AC_MAX 4096
/* A connection not made, or a transfer that moved no byte, in this long
 * is a server that does not answer (the circuit opens): a hung server
 * costs a run this much, not its whole budget. */
#define RC_STALL_MS 1000L
/* The largest value read from the server (and so the largest blob, about):
 * results are a few KiB, a whole run's record of 100,000 modules some MiB;
 * a server must not make a run hold more (16 requests in flight). */
#define RC_VALUE_MAX ((size_t)64 << 20)
/* Failures in a row that open the circuit. */
#define RC_FAILS_OPEN 3

#define RC_KEY_LEN 32
static const uint8_t blob_magic[8] = {'s', 't', 'r', 'a', 't', 'a', 'R', '1'};
#define RC_BLOB_HEAD (sizeof blob_magic + RC_KEY_LEN + 8)
static const char out_path[] = "strata-result";

typedef Build__Bazel__Remote__Execution__V2__ActionResult ac_result_t;
typedef Build__Bazel__Remote__Execution__V2__OutputFile ac_file_t;
typedef Build__Bazel__Remote__Execution__V2__Digest ac_digest_t;

/* ---- blobs and action results --------------------------------------------- */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

st_rc_t rcache_blob_encode(const digest_t *key, const void *value, size_t len, arena_t *a,
                           span_t *blob)
{
    size_t bound = ZSTD_compressBound(len), n;
    uint8_t *p = arena_alloc(a, RC_BLOB_HEAD + bound);

    if (p == NULL)
        return ST_ENOMEM;
    memcpy(p, blob_magic, sizeof blob_magic);
    memcpy(p + sizeof blob_magic, key->b, RC_KEY_LEN);
    put_le64(p + sizeof blob_magic + RC_KEY_LEN, len);
    n = ZSTD_compress(p + RC_BLOB_HEAD, bound, value, len, 1);
    if (ZSTD_isError(n))
        return ST_ENOMEM;
    *blob = (span_t){.ptr = p, .len = RC_BLOB_HEAD + n};
    return ST_OK;
}

st_rc_t rcache_blob_decode(const digest_t *key, span_t blob, arena_t *a, span_t *value)
{
    uint64_t len;
    unsigned long long frame;
    uint8_t *p;
    size_t got;

    if (blob.len < RC_BLOB_HEAD || memcmp(blob.ptr, blob_magic, sizeof blob_magic) != 0 ||
        memcmp(blob.ptr + sizeof blob_magic, key->b, RC_KEY_LEN) != 0)
        return ST_ECORRUPT;
    len = get_le64(blob.ptr + sizeof blob_magic + RC_KEY_LEN);
    frame = ZSTD_getFrameContentSize(blob.ptr + RC_BLOB_HEAD, blob.len - RC_BLOB_HEAD);
    if (len > RC_VALUE_MAX || frame != len)
        return ST_ECORRUPT;
    if ((p = arena_alloc(a, len > 0 ? len : 1)) == NULL)
        return ST_ENOMEM;
    got = ZSTD_decompress(p, len, blob.ptr + RC_BLOB_HEAD, blob.len - RC_BLOB_HEAD);
    if (ZSTD_isError(got) || got != len)
        return ST_ECORRUPT;
    *value = (span_t){.ptr = p, .len = len};
    return ST_OK;
}

void rcache_ac_key(const digest_t *key, digest_t *out)
{
    static const char tag[] = "strata-ac";
    uint8_t in[sizeof tag + RC_KEY_LEN];

    memcpy(in, tag, sizeof tag);
    memcpy(in + sizeof tag, key->b, RC_KEY_LEN);
    if (digest_sha256(in, sizeof in, out) != ST_OK)
        memset(out, 0, sizeof *out);
}

st_rc_t rcache_ac_encode(const char hash[DIGEST_HEX_LEN + 1], uint64_t size, arena_t *a,
                         span_t *out)
{
    ac_digest_t d = BUILD__BAZEL__REMOTE__EXECUTION__V2__DIGEST__INIT;
    ac_file_t f = BUILD__BAZEL__REMOTE__EXECUTION__V2__OUTPUT_FILE__INIT;
    ac_result_t r = BUILD__BAZEL__REMOTE__EXECUTION__V2__ACTION_RESULT__INIT;
    ac_file_t *files[1] = {&f};
    size_t n;
    uint8_t *p;

    d.hash = (char *)hash;
    d.size_bytes = (int64_t)size;
    f.path = (char *)out_path;
    f.digest = &d;
    r.n_output_files = 1;
    r.output_files = files;
    n = build__bazel__remote__execution__v2__action_result__get_packed_size(&r);
    if ((p = arena_alloc(a, n)) == NULL)
        return ST_ENOMEM;
    *out =
        (span_t){.ptr = p, .len = build__bazel__remote__execution__v2__action_result__pack(&r, p)};
    return ST_OK;
}

static bool hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

st_rc_t rcache_ac_decode(span_t data, char hash[DIGEST_HEX_LEN + 1], uint64_t *size)
{
    ac_result_t *r;
    st_rc_t rc = ST_ECORRUPT;

    if (data.len == 0 || data.len > RC_AC_MAX ||
        (r = build__bazel__remote__execution__v2__action_result__unpack(NULL, data.len,
                                                                        data.ptr)) == NULL)
        return ST_ECORRUPT;
    if (r->n_output_files == 1 && r->exit_code == 0) {
        const ac_file_t *f = r->output_files[0];
        if (f->path != NULL && strcmp(f->path, out_path) == 0 && f->digest != NULL &&
            f->digest->hash != NULL && strlen(f->digest->hash) == DIGEST_HEX_LEN &&
            hex_lower(f->digest->hash, DIGEST_HEX_LEN) && f->digest->size_bytes > 0 &&
            (uint64_t)f->digest->size_bytes <= RC_BLOB_HEAD + ZSTD_compressBound(RC_VALUE_MAX)) {
            memcpy(hash, f->digest->hash, DIGEST_HEX_LEN + 1);
            *size = (uint64_t)f->digest->size_bytes;
            rc = ST_OK;
        }
    }
    build__bazel__remote__execution__v2__action_result__free_unpacked(r, NULL);
    return rc;
}

/* ---- the client ------------------------------------------------------------ */

/* What became of a request. */
typedef enum {
    RQ_OK = 0,  /* 2xx, the body read */
    RQ_MISS,    /* 404 */
    RQ_FAIL,    /* refused, reset, 5xx, another 4xx: counts towards the circuit */
    RQ_DENIED,  /* 401 or 403: the credential is not good enough */
    RQ_TIMEOUT, /* no byte moved for RC_STALL_MS, or no connection */
    RQ_BUDGET,  /* the run's allowance ran out first */
    RQ_BAD,     /* an answer larger than the entry can be */
    RQ_ABORTED  /* not made: the circuit opened or the run is ending */
} rq_outcome_t;

typedef struct {
    char path[4 + DIGEST_HEX_LEN + 1]; /* "ac/<hex>" or "cas/<hex>" */
    const uint8_t *put;                /* PUT this body; NULL: GET */
    size_t put_len;
    size_t cap; /* GET: the most bytes accepted */
    rq_outcome_t outcome;
    char why[96]; /* RQ_FAIL, RQ_DENIED: what happened (no credential in it) */
} req_t;

/* The completion of request i of a batch: body[0..len) is the response
 * (valid during the call). */
typedef void (*req_done_fn)(void *ctx, size_t i, req_t *r, const uint8_t *body, size_t len);

typedef struct {
    CURL *easy;
    buf_t body;
    size_t cap;
    bool over; /* the response grew past cap */
    const uint8_t *up;
    size_t up_len, up_off;
    size_t req;
    bool busy;
} slot_t;

typedef struct client {
    CURLM *multi;
    slot_t slot[RC_PARALLEL];
    struct client *next;
} client_t;

struct rcache {
    char *url;  /* without the trailing slash */
    char *auth; /* "Authorization: ..." or NULL */
    char *ca_file;
    bool upload;
    uint64_t budget_ns;
    size_t max_upload;
    FILE *log;
    struct curl_slist *headers; /* built on first use */

    pthread_mutex_t lock;
    client_t *clients; /* idle ones */
    bool inited;       /* libcurl set up (under lock) */
    bool init_failed;
    atomic_bool open;       /* the circuit: no more requests */
    atomic_bool no_puts;    /* uploads refused */
    atomic_bool aborting;   /* the run ends: transfers in flight stop */
    unsigned fails;         /* in a row (under lock) */
    unsigned waiting;       /* blocking calls under way (under lock) */
    uint64_t waiting_since; /* since when one is (under lock) */
    bool said_open, said_corrupt, said_denied_put;
    _Atomic uint64_t spent_ns;

    /* the upload queue (under lock) */
    struct item *queue, **queue_tail;
    size_t queued_bytes;
    bool thread_started, closing, idle;
    bool finished; /* rcache_finish was called (by the owner's thread) */
    pthread_t thread;
    pthread_cond_t wake, drained;

    _Atomic uint64_t hits, misses, errors, corrupt, bytes_down, uploaded, bytes_up, skipped,
        dropped;
    rcache_stats_t published; /* what rcache_stats gave the metrics registry (under lock) */
};

typedef struct item {
    struct item *next;
    digest_t key;
    size_t len;
    uint8_t value[];
} item_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void say(rcache_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(rcache_t *self, const char *fmt, ...)
{
    va_list ap;

    if (self->log == NULL)
        return;
    va_start(ap, fmt);
    flockfile(self->log);
    fprintf(self->log, "strata: warning: remote cache %s: ", self->url);
    vfprintf(self->log, fmt, ap);
    fputc('\n', self->log);
    funlockfile(self->log);
    va_end(ap);
}

/* Gives up on the server for the rest of the run, saying why once. */
static void open_circuit(rcache_t *self, const char *why)
{
    bool say_it;

    pthread_mutex_lock(&self->lock);
    say_it = !self->said_open;
    self->said_open = true;
    pthread_mutex_unlock(&self->lock);
    atomic_store(&self->open, true);
    if (say_it)
        say(self, "%s; going on without it", why);
}

static void note_corrupt(rcache_t *self, const char *what);

/* A blocking call ends (see wait_begin). */
static void wait_end(rcache_t *self)
{
    uint64_t now = clock_ns();

    pthread_mutex_lock(&self->lock);
    if (--self->waiting == 0)
        atomic_fetch_add(&self->spent_ns, now - self->waiting_since);
    pthread_mutex_unlock(&self->lock);
}

/* What a finished request says about the server. */
static void judge(rcache_t *self, req_t *r)
{
    char why[160];
    unsigned fails = 0;

    if (r->put != NULL && r->outcome != RQ_OK && r->outcome != RQ_ABORTED) {
        /* an upload that fails says little of lookups (a read-only server
         * answers 403 or 405, nginx's default body limit 413): uploads stop */
        bool say_it;
        atomic_fetch_add(&self->errors, 1);
        pthread_mutex_lock(&self->lock);
        say_it = !self->said_denied_put;
        self->said_denied_put = true;
        pthread_mutex_unlock(&self->lock);
        atomic_store(&self->no_puts, true);
        if (say_it)
            say(self, "uploads refused (%s); results are not sent",
                r->outcome == RQ_TIMEOUT || r->outcome == RQ_BUDGET ? "no answer in time"
                : r->why[0] != '\0'                                 ? r->why
                                                                    : "a bad answer");
        return;
    }
    switch (r->outcome) {
    case RQ_OK:
    case RQ_MISS:
        pthread_mutex_lock(&self->lock);
        self->fails = 0;
        pthread_mutex_unlock(&self->lock);
        return;
    case RQ_ABORTED:
        return;
    case RQ_BAD:
        note_corrupt(self, "an entry is larger than it can be");
        return;
    case RQ_TIMEOUT:
        atomic_fetch_add(&self->errors, 1);
        open_circuit(self, "no answer in time");
        return;
    case RQ_BUDGET:
        atomic_fetch_add(&self->errors, 1);
        open_circuit(self, "the run's time allowance for it is spent");
        return;
    case RQ_DENIED:
        atomic_fetch_add(&self->errors, 1);
        snprintf(why, sizeof why, "%s (check the credential)", r->why);
        open_circuit(self, why);
        return;
    case RQ_FAIL:
        atomic_fetch_add(&self->errors, 1);
        pthread_mutex_lock(&self->lock);
        fails = ++self->fails;
        pthread_mutex_unlock(&self->lock);
        if (fails >= RC_FAILS_OPEN) {
            snprintf(why, sizeof why, "%s (%u failures in a row)", r->why, fails);
            open_circuit(self, why);
        }
        return;
    }
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    slot_t *s = ctx;
    size_t len = size * n;

    if (s->up != NULL)
        return len; /* the server's words on a PUT: only its status counts */
    if (s->body.len + len > s->cap) {
        s->over = true;
        return 0;
    }
    return buf_append(&s->body, data, len) == ST_OK ? len : 0;
}

static size_t on_upload(char *data, size_t size, size_t n, void *ctx)
{
    slot_t *s = ctx;
    size_t len = size * n, left = s->up_len - s->up_off;

    if (len > left)
        len = left;
    memcpy(data, s->up + s->up_off, len);
    s->up_off += len;
    return len;
}

/* libcurl rewinds a PUT it sends again (a kept-alive connection the server
 * had closed). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    slot_t *s = ctx;

    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > s->up_len)
        return CURL_SEEKFUNC_CANTSEEK;
    s->up_off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static void client_free(client_t *c)
{
    if (c == NULL)
        return;
    for (int k = 0; k < RC_PARALLEL; k++) {
        if (c->slot[k].easy != NULL)
            curl_easy_cleanup(c->slot[k].easy);
        buf_free(&c->slot[k].body);
    }
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    st_free(c);
}

/* libcurl set up once per process, the headers once per cache. */
static bool ready(rcache_t *self)
{
    bool ok;

    pthread_mutex_lock(&self->lock);
    if (!self->inited && !self->init_failed) {
        pthread_once(&curl_once, curl_init_once);
        self->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue wait */
        if (self->headers != NULL && self->auth != NULL) {
            struct curl_slist *h = curl_slist_append(self->headers, self->auth);
            if (h == NULL) {
                curl_slist_free_all(self->headers);
                self->headers = NULL;
            }
        }
        self->inited = curl_init_rc == CURLE_OK && self->headers != NULL;
        self->init_failed = !self->inited;
    }
    ok = self->inited;
    pthread_mutex_unlock(&self->lock);
    if (!ok)
        open_circuit(self, "libcurl could not be set up");
    return ok;
}

static client_t *client_take(rcache_t *self)
{
    client_t *c;

    if (!ready(self))
        return NULL;
    pthread_mutex_lock(&self->lock);
    if ((c = self->clients) != NULL)
        self->clients = c->next;
    pthread_mutex_unlock(&self->lock);
    if (c != NULL)
        return c;
    if ((c = st_calloc(1, sizeof *c)) == NULL || (c->multi = curl_multi_init()) == NULL) {
        client_free(c);
        return NULL;
    }
    for (int k = 0; k < RC_PARALLEL; k++) {
        buf_init(&c->slot[k].body);
        if ((c->slot[k].easy = curl_easy_init()) == NULL) {
            client_free(c);
            return NULL;
        }
    }
    return c;
}

static void client_give(rcache_t *self, client_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&self->lock);
    c->next = self->clients;
    self->clients = c;
    pthread_mutex_unlock(&self->lock);
}

/* Sets slot s up for request r, with at most ms milliseconds to finish. */
static bool slot_start(rcache_t *self, client_t *c, slot_t *s, req_t *r, size_t i, long ms)
{
    char url[4096];
    CURL *e = s->easy;
    int n = snprintf(url, sizeof url, "%s/%s", self->url, r->path);

    if (n < 0 || (size_t)n >= sizeof url)
        return false;
    if (s->body.cap > ((size_t)1 << 20)) {
        buf_free(&s->body); /* one large blob does not stay for the run */
        buf_init(&s->body);
    }
    buf_reset(&s->body);
    s->cap = r->cap;
    s->over = false;
    s->up = r->put;
    s->up_len = r->put_len;
    s->up_off = 0;
    s->req = i;
    /* the same options every time: curl_easy_reset would also drop the
     * connection's TLS session cache */
    bool ok =
        curldl_setopt_ptr(e, CURLOPT_URL, url) == CURLE_OK &&
        curldl_setopt_ptr(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
        curldl_setopt_ptr(e, CURLOPT_HTTPHEADER, self->headers) == CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_TIMEOUT_MS, ms) == CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, ms < RC_STALL_MS ? ms : RC_STALL_MS) ==
            CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
        curldl_setopt_long(e, CURLOPT_LOW_SPEED_TIME, RC_STALL_MS / 1000) == CURLE_OK &&
        curldl_setopt_ptr(e, CURLOPT_WRITEFUNCTION, (const void *)on_body) == CURLE_OK &&
        curldl_setopt_ptr(e, CURLOPT_WRITEDATA, s) == CURLE_OK &&
        curldl_setopt_ptr(e, CURLOPT_USERAGENT, "strata") == CURLE_OK &&
        (self->ca_file == NULL || curldl_setopt_ptr(e, CURLOPT_CAINFO, self->ca_file) == CURLE_OK);
    if (ok && r->put != NULL)
        ok = curldl_setopt_long(e, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
             curldl_setopt_ptr(e, CURLOPT_READFUNCTION, (const void *)on_upload) == CURLE_OK &&
             curldl_setopt_ptr(e, CURLOPT_READDATA, s) == CURLE_OK &&
             curldl_setopt_ptr(e, CURLOPT_SEEKFUNCTION, (const void *)on_seek) == CURLE_OK &&
             curldl_setopt_ptr(e, CURLOPT_SEEKDATA, s) == CURLE_OK &&
             curldl_setopt_off(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->put_len) == CURLE_OK;
    else if (ok)
        ok = curldl_setopt_long(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    if (!ok || curl_multi_add_handle(c->multi, e) != CURLM_OK)
        return false;
    s->busy = true;
    return true;
}

/* How slot s's transfer ended (code from libcurl). */
static void slot_judge(slot_t *s, CURLcode code, req_t *r)
{
    long status = 0;

    if (code == CURLE_OPERATION_TIMEDOUT) {
        r->outcome = RQ_TIMEOUT;
        return;
    }
    if (s->over) {
        r->outcome = RQ_BAD;
        return;
    }
    if (code != CURLE_OK) {
        r->outcome = RQ_FAIL;
        snprintf(r->why, sizeof r->why, "%s", curl_easy_strerror(code));
        return;
    }
    (void)curldl_getinfo_long(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        r->outcome = RQ_OK;
    else if (status == 404)
        r->outcome = RQ_MISS;
    else {
        r->outcome = status == 401 || status == 403 ? RQ_DENIED : RQ_FAIL;
        snprintf(r->why, sizeof r->why, "HTTP %ld", status);
    }
}

/* Runs reqs[0..n) on client c, RC_PARALLEL at a time, until each has an
 * outcome; calls done for each, then judge. Stops at deadline (monotonic
 * ns; what is left times out) or when the run is aborting. */
static void run_batch(rcache_t *self, client_t *c, req_t *reqs, size_t n, uint64_t deadline,
                      req_done_fn done, void *ctx)
{
    size_t next = 0, active = 0;

    for (size_t i = 0; i < n; i++)
        reqs[i].outcome = RQ_ABORTED;
    while (next < n || active > 0) {
        uint64_t now = clock_ns();
        bool stop = now >= deadline || atomic_load(&self->aborting) || atomic_load(&self->open);
        int running = 0, left = 0;
        CURLMsg *m;

        for (int k = 0; k < RC_PARALLEL && next < n && !stop; k++) {
            slot_t *s = &c->slot[k];
            if (s->busy)
                continue;
            long ms = (long)((deadline - now) / 1000000u) + 1;
            if (!slot_start(self, c, s, &reqs[next], next, ms)) {
                reqs[next].outcome = RQ_FAIL;
                snprintf(reqs[next].why, sizeof reqs[next].why, "a request could not be made");
                done(ctx, next, &reqs[next], NULL, 0);
                judge(self, &reqs[next]);
            } else
                active++;
            next++;
        }
        if (stop) {
            /* what is in flight ends here; what was not started never is */
            for (int k = 0; k < RC_PARALLEL; k++) {
                slot_t *s = &c->slot[k];
                if (!s->busy)
                    continue;
                curl_multi_remove_handle(c->multi, s->easy);
                s->busy = false;
                reqs[s->req].outcome = now >= deadline ? RQ_BUDGET : RQ_ABORTED;
                done(ctx, s->req, &reqs[s->req], NULL, 0);
                judge(self, &reqs[s->req]);
            }
            for (; next < n; next++)
                done(ctx, next, &reqs[next], NULL, 0);
            return;
        }
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            running = 0;
        while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
            slot_t *s = NULL;
            if (m->msg != CURLMSG_DONE)
                continue;
            for (int k = 0; k < RC_PARALLEL && s == NULL; k++)
                if (c->slot[k].busy && c->slot[k].easy == m->easy_handle)
                    s = &c->slot[k];
            if (s == NULL)
                continue;
            req_t *r = &reqs[s->req];
            slot_judge(s, m->data.result, r);
            curl_multi_remove_handle(c->multi, s->easy);
            s->busy = false;
            active--;
            atomic_fetch_add(&self->bytes_down, s->body.len);
            done(ctx, s->req, r, s->body.data, s->body.len);
            judge(self, r);
        }
        if (active > 0) {
            uint64_t wait = (deadline - now) / 1000000u;
            (void)curl_multi_poll(c->multi, NULL, 0, wait < 50 ? (int)wait + 1 : 50, NULL);
        }
    }
}

/* ---- lookups --------------------------------------------------------------- */

typedef struct {
    rcache_t *self;
    const digest_t *keys;
    arena_t *a;
    span_t *values;
    size_t *which; /* request i of the blob round is for key which[i] */
    char (*hash)[DIGEST_HEX_LEN + 1];
    uint64_t *size;
    bool *named; /* the key's action result named a blob */
} lookup_t;

static void note_corrupt(rcache_t *self, const char *what)
{
    bool say_it;

    atomic_fetch_add(&self->corrupt, 1);
    atomic_fetch_add(&self->errors, 1);
    pthread_mutex_lock(&self->lock);
    say_it = !self->said_corrupt;
    self->said_corrupt = true;
    pthread_mutex_unlock(&self->lock);
    if (say_it)
        say(self, "%s; such entries are misses", what);
}

static void ac_done(void *ctx, size_t i, req_t *r, const uint8_t *body, size_t len)
{
    lookup_t *l = ctx;

    if (r->outcome != RQ_OK)
        return;
    if (rcache_ac_decode((span_t){.ptr = body, .len = len}, l->hash[i], &l->size[i]) == ST_OK)
        l->named[i] = true;
    else
        note_corrupt(l->self, "an action result is not one of strata's");
}

static void blob_done(void *ctx, size_t i, req_t *r, const uint8_t *body, size_t len)
{
    lookup_t *l = ctx;
    size_t k = l->which[i];
    digest_t got;
    char hex[DIGEST_HEX_LEN + 1];
    span_t v;

    if (r->outcome != RQ_OK)
        return;
    if (len != l->size[k] || digest_sha256(body, len, &got) != ST_OK) {
        note_corrupt(l->self, "a blob is not the size its action result says");
        return;
    }
    digest_to_hex(&got, hex);
    if (strcmp(hex, l->hash[k]) != 0) {
        note_corrupt(l->self, "a blob does not have the digest it is stored under");
        return;
    }
    if (rcache_blob_decode(&l->keys[k], (span_t){.ptr = body, .len = len}, l->a, &v) != ST_OK) {
        note_corrupt(l->self, "a blob is not the result of the key that names it");
        return;
    }
    l->values[k] = v;
}

/* A blocking call begins: the monotonic time by which it must end (what is
 * left of the run's allowance), or 0 (and the circuit opened) when nothing
 * is. Waits of several threads at once count once: the allowance is of
 * the run's wall time spent waiting. */
static uint64_t wait_begin(rcache_t *self)
{
    uint64_t now = clock_ns(), used;

    pthread_mutex_lock(&self->lock);
    if (self->waiting++ == 0)
        self->waiting_since = now;
    used = atomic_load(&self->spent_ns) + (now - self->waiting_since);
    pthread_mutex_unlock(&self->lock);
    if (used >= self->budget_ns) {
        wait_end(self);
        open_circuit(self, "the run's time allowance for it is spent");
        return 0;
    }
    return now + (self->budget_ns - used);
}

void rcache_get_many(rcache_t *self, const digest_t *keys, size_t n, arena_t *a, span_t *values,
                     size_t *hits)
{
    lookup_t l = {.self = self, .keys = keys, .a = a, .values = values};
    req_t *reqs = NULL;
    client_t *c = NULL;
    uint64_t deadline = 0;
    size_t m = 0;

    *hits = 0;
    for (size_t i = 0; i < n; i++)
        values[i] = (span_t){.ptr = NULL, .len = 0};
    if (n == 0)
        return;
    if (atomic_load(&self->open) || (deadline = wait_begin(self)) == 0 ||
        (c = client_take(self)) == NULL) {
        if (deadline != 0)
            wait_end(self);
        atomic_fetch_add(&self->misses, n);
        return;
    }
    reqs = st_calloc(n, sizeof *reqs);
    l.which = st_calloc(n, sizeof *l.which);
    l.hash = st_calloc(n, sizeof *l.hash);
    l.size = st_calloc(n, sizeof *l.size);
    l.named = st_calloc(n, sizeof *l.named);
    if (reqs != NULL && l.which != NULL && l.hash != NULL && l.size != NULL && l.named != NULL) {
        for (size_t i = 0; i < n; i++) {
            digest_t ak;
            char hex[DIGEST_HEX_LEN + 1];
            rcache_ac_key(&keys[i], &ak);
            digest_to_hex(&ak, hex);
            snprintf(reqs[i].path, sizeof reqs[i].path, "ac/%s", hex);
            reqs[i].cap = RC_AC_MAX;
        }
        run_batch(self, c, reqs, n, deadline, ac_done, &l);
        for (size_t i = 0; i < n; i++)
            if (l.named[i]) {
                l.which[m] = i;
                snprintf(reqs[m].path, sizeof reqs[m].path, "cas/%s", l.hash[i]);
                reqs[m].put = NULL;
                reqs[m].cap = l.size[i];
                m++;
            }
        if (m > 0)
            run_batch(self, c, reqs, m, deadline, blob_done, &l);
    }
    for (size_t i = 0; i < n; i++)
        *hits += values[i].ptr != NULL;
    atomic_fetch_add(&self->hits, *hits);
    atomic_fetch_add(&self->misses, n - *hits);
    wait_end(self);
    client_give(self, c);
    st_free(l.named);
    st_free(l.size);
    st_free(l.hash);
    st_free(l.which);
    st_free(reqs);
}

bool rcache_get(rcache_t *self, const digest_t *key, arena_t *a, span_t *value)
{
    size_t hits = 0;

    rcache_get_many(self, key, 1, a, value, &hits);
    return hits == 1;
}

/* ---- uploads --------------------------------------------------------------- */

typedef struct {
    rcache_t *self;
    bool *sent; /* the blob of upload i stored */
} upload_t;

static void put_done(void *ctx, size_t i, req_t *r, const uint8_t *body, size_t len)
{
    upload_t *u = ctx;

    (void)body;
    (void)len;
    if (r->outcome == RQ_OK) {
        u->sent[i] = true;
        atomic_fetch_add(&u->self->bytes_up, r->put_len);
    }
}

/* Sends items[0..n): the blobs, then the action results of those stored. */
static void send_items(rcache_t *self, client_t *c, item_t **items, size_t n, arena_t *a)
{
    req_t reqs[RC_UPLOAD_BATCH] = {0}, acs[RC_UPLOAD_BATCH] = {0};
    bool sent[RC_UPLOAD_BATCH] = {0}, done_ac[RC_UPLOAD_BATCH] = {0};
    span_t acv[RC_UPLOAD_BATCH];
    upload_t u = {self, sent}, ua = {self, done_ac};
    size_t m = 0;
    /* a transfer may take the whole budget; a hung one opens the circuit */
    uint64_t deadline = clock_ns() + self->budget_ns;

    for (size_t i = 0; i < n; i++) {
        span_t blob;
        digest_t bd;
        char hex[DIGEST_HEX_LEN + 1];
        if (rcache_blob_encode(&items[i]->key, items[i]->value, items[i]->len, a, &blob) != ST_OK ||
            digest_sha256(blob.ptr, blob.len, &bd) != ST_OK) {
            atomic_fetch_add(&self->dropped, n);
            return;
        }
        digest_to_hex(&bd, hex);
        snprintf(reqs[i].path, sizeof reqs[i].path, "cas/%s", hex);
        reqs[i].put = blob.ptr;
        reqs[i].put_len = blob.len;
        reqs[i].cap = 4096; /* the server's answer to a PUT */
        if (rcache_ac_encode(hex, blob.len, a, &acv[i]) != ST_OK) {
            atomic_fetch_add(&self->dropped, n);
            return;
        }
    }
    run_batch(self, c, reqs, n, deadline, put_done, &u);
    for (size_t i = 0; i < n; i++)
        if (sent[i]) {
            digest_t ak;
            char hex[DIGEST_HEX_LEN + 1];
            rcache_ac_key(&items[i]->key, &ak);
            digest_to_hex(&ak, hex);
            snprintf(acs[m].path, sizeof acs[m].path, "ac/%s", hex);
            acs[m].put = acv[i].ptr;
            acs[m].put_len = acv[i].len;
            acs[m].cap = 4096;
            m++;
        }
    if (m > 0)
        run_batch(self, c, acs, m, deadline, put_done, &ua);
    for (size_t i = 0; i < m; i++)
        if (done_ac[i])
            atomic_fetch_add(&self->uploaded, 1);
}

static void *uploader(void *arg)
{
    rcache_t *self = arg;
    client_t *c = client_take(self);
    arena_t *a = arena_new(0);

    for (;;) {
        item_t *batch[RC_UPLOAD_BATCH];
        size_t n = 0;

        pthread_mutex_lock(&self->lock);
        while (self->queue == NULL && !self->closing) {
            self->idle = true;
            pthread_cond_broadcast(&self->drained);
            pthread_cond_wait(&self->wake, &self->lock);
        }
        self->idle = false;
        size_t bytes = 0;
        while (self->queue != NULL && n < RC_UPLOAD_BATCH &&
               (n == 0 || bytes + self->queue->len <= RC_UPLOAD_BATCH_BYTES)) {
            item_t *it = self->queue;
            bytes += it->len;
            self->queue = it->next;
            self->queued_bytes -= it->len;
            batch[n++] = it;
        }
        if (self->queue == NULL)
            self->queue_tail = &self->queue;
        pthread_mutex_unlock(&self->lock);
        if (n == 0)
            break; /* closing, and nothing left */
        if (c != NULL && a != NULL && !atomic_load(&self->open) && !atomic_load(&self->no_puts) &&
            !atomic_load(&self->aborting))
            send_items(self, c, batch, n, a);
        else
            atomic_fetch_add(&self->dropped, n);
        if (a != NULL)
            arena_reset(a);
        for (size_t i = 0; i < n; i++)
            st_free(batch[i]);
    }
    arena_destroy(&a);
    client_give(self, c);
    pthread_mutex_lock(&self->lock);
    self->idle = true;
    pthread_cond_broadcast(&self->drained);
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

void rcache_put(rcache_t *self, const digest_t *key, const void *value, size_t len)
{
    item_t *it;

    if (self == NULL || !self->upload)
        return;
    if (len > self->max_upload) {
        atomic_fetch_add(&self->skipped, 1);
        return;
    }
    if (atomic_load(&self->open) || atomic_load(&self->no_puts) ||
        (it = st_malloc(sizeof *it + len)) == NULL) {
        atomic_fetch_add(&self->dropped, 1);
        return;
    }
    it->next = NULL;
    it->key = *key;
    it->len = len;
    memcpy(it->value, value, len);
    pthread_mutex_lock(&self->lock);
    if (self->closing || self->queued_bytes + len > RC_QUEUE_MAX) {
        pthread_mutex_unlock(&self->lock);
        st_free(it);
        atomic_fetch_add(&self->dropped, 1);
        return;
    }
    *self->queue_tail = it;
    self->queue_tail = &it->next;
    self->queued_bytes += len;
    if (!self->thread_started) {
        self->thread_started = pthread_create(&self->thread, NULL, uploader, self) == 0;
        if (!self->thread_started) {
            /* no thread: nothing will send it */
            self->queue = NULL;
            self->queue_tail = &self->queue;
            self->queued_bytes = 0;
            pthread_mutex_unlock(&self->lock);
            st_free(it);
            atomic_fetch_add(&self->dropped, 1);
            return;
        }
    }
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

/* ---- the cache ------------------------------------------------------------- */

st_rc_t rcache_check_url(const char *url, st_err_t *err)
{
    const char *host, *end;

    if (url == NULL || url[0] == '\0')
        return st_fail(err, ST_EINVAL, "empty URL for --remote-cache");
    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return st_fail(err, ST_EINVAL,
                       "invalid URL '%.60s' for --remote-cache (expected http:// or https://)",
                       url);
    end = host + strcspn(host, "/");
    if (end == host)
        return st_fail(err, ST_EINVAL, "invalid URL '%.60s' for --remote-cache (no host)", url);
    if (memchr(host, '@', (size_t)(end - host)) != NULL)
        return st_fail(err, ST_EINVAL,
                       "credentials in the URL of --remote-cache would be shown; give them "
                       "with --remote-cache-auth-file or STRATA_REMOTE_CACHE_AUTH");
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#')
            return st_fail(err, ST_EINVAL,
                           "invalid URL for --remote-cache (no spaces, query or fragment)");
    if (strlen(url) > 2048)
        return st_fail(err, ST_EINVAL, "URL of --remote-cache too long");
    return ST_OK;
}

st_rc_t rcache_open(const rcache_opts_t *opts, rcache_t **out, st_err_t *err)
{
    rcache_t *self;
    size_t n;

    *out = NULL;
    if (rcache_check_url(opts->url, err) != ST_OK)
        return ST_EINVAL;
    if (opts->auth != NULL && strpbrk(opts->auth, "\r\n") != NULL)
        return st_fail(err, ST_EINVAL, "the remote cache's credential holds a line break");
    if ((self = st_calloc(1, sizeof *self)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    n = strlen(opts->url);
    while (n > 0 && opts->url[n - 1] == '/')
        n--;
    self->url = st_malloc(n + 1);
    if (self->url != NULL) {
        memcpy(self->url, opts->url, n);
        self->url[n] = '\0';
    }
    if (opts->auth != NULL && (self->auth = st_malloc(strlen(opts->auth) + 16)) != NULL)
        sprintf(self->auth, "Authorization: %s", opts->auth);
    if (opts->ca_file != NULL && (self->ca_file = st_malloc(strlen(opts->ca_file) + 1)) != NULL)
        strcpy(self->ca_file, opts->ca_file);
    if (self->url == NULL || (opts->auth != NULL && self->auth == NULL) ||
        (opts->ca_file != NULL && self->ca_file == NULL)) {
        rcache_close(&self);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    self->upload = opts->upload;
    self->budget_ns =
        (uint64_t)(opts->budget_ms != 0 ? opts->budget_ms : RCACHE_BUDGET_MS_DEFAULT) * 1000000u;
    self->max_upload = opts->max_upload != 0 ? opts->max_upload : RCACHE_MAX_UPLOAD_DEFAULT;
    if (self->max_upload > RC_VALUE_MAX)
        self->max_upload = RC_VALUE_MAX; /* what no reader would take */
    self->log = opts->log;
    self->queue_tail = &self->queue;
    self->idle = true;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->drained, NULL);
    *out = self;
    return ST_OK;
}

/* Waits for the upload queue to drain, at most the budget's remainder. */
static void finish_uploads(rcache_t *self)
{
    uint64_t deadline = wait_begin(self), left = 0;
    struct timespec until;
    uint64_t t;

    if (deadline != 0) {
        uint64_t now = clock_ns();
        left = deadline > now ? deadline - now : 0;
    }

    pthread_mutex_lock(&self->lock);
    self->closing = true;
    pthread_cond_signal(&self->wake);
    clock_gettime(CLOCK_REALTIME, &until);
    t = (uint64_t)until.tv_sec * 1000000000u + (uint64_t)until.tv_nsec + left;
    until.tv_sec = (time_t)(t / 1000000000u);
    until.tv_nsec = (long)(t % 1000000000u);
    while (!(self->idle && self->queue == NULL))
        if (pthread_cond_timedwait(&self->drained, &self->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&self->lock);
    atomic_store(&self->aborting, true); /* what is still in flight stops */
    pthread_join(self->thread, NULL);
    if (deadline != 0)
        wait_end(self);
    /* what the thread left: dropped */
    for (item_t *it = self->queue, *next; it != NULL; it = next) {
        next = it->next;
        st_free(it);
        atomic_fetch_add(&self->dropped, 1);
    }
    self->queue = NULL;
}

void rcache_finish(rcache_t *self)
{
    bool started;

    if (self == NULL || self->finished)
        return;
    self->finished = true;
    pthread_mutex_lock(&self->lock);
    started = self->thread_started;
    if (!started)
        self->closing = true; /* no put starts the thread after this */
    pthread_mutex_unlock(&self->lock);
    if (started)
        finish_uploads(self);
}

void rcache_close(rcache_t **self_p)
{
    rcache_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    if (self->queue_tail != NULL)
        rcache_finish(self);
    while (self->clients != NULL) {
        client_t *c = self->clients;
        self->clients = c->next;
        client_free(c);
    }
    if (self->headers != NULL)
        curl_slist_free_all(self->headers);
    if (self->queue_tail != NULL) {
        pthread_cond_destroy(&self->drained);
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
    }
    if (self->auth != NULL)
        memset(self->auth, 0, strlen(self->auth));
    st_free(self->auth);
    st_free(self->ca_file);
    st_free(self->url);
    st_free(self);
    *self_p = NULL;
}

static void publish_one(const char *name, uint64_t now, uint64_t *was)
{
    if (now > *was)
        metrics_counter_add(metrics_counter(name), now - *was);
    *was = now;
}

void rcache_stats(rcache_t *self, rcache_stats_t *out)
{
    rcache_stats_t *p = &self->published;

    *out = (rcache_stats_t){
        .hits = atomic_load(&self->hits),
        .misses = atomic_load(&self->misses),
        .errors = atomic_load(&self->errors),
        .corrupt = atomic_load(&self->corrupt),
        .bytes_down = atomic_load(&self->bytes_down),
        .uploaded = atomic_load(&self->uploaded),
        .bytes_up = atomic_load(&self->bytes_up),
        .skipped = atomic_load(&self->skipped),
        .dropped = atomic_load(&self->dropped),
        .wait_ms = atomic_load(&self->spent_ns) / 1000000u,
        .open = atomic_load(&self->open),
    };
    /* the growth since the last call, into the metrics registry */
    pthread_mutex_lock(&self->lock);
    publish_one("cas.remote.hits", out->hits, &p->hits);
    publish_one("cas.remote.misses", out->misses, &p->misses);
    publish_one("cas.remote.errors", out->errors, &p->errors);
    publish_one("cas.remote.corrupt", out->corrupt, &p->corrupt);
    publish_one("cas.remote.bytes_down", out->bytes_down, &p->bytes_down);
    publish_one("cas.remote.uploads", out->uploaded, &p->uploaded);
    publish_one("cas.remote.bytes_up", out->bytes_up, &p->bytes_up);
    publish_one("cas.remote.skipped", out->skipped, &p->skipped);
    publish_one("cas.remote.dropped", out->dropped, &p->dropped);
    pthread_mutex_unlock(&self->lock);
}

/* ---- the tally --------------------------------------------------------------- */

static const char tally_magic[] = "strata-remote-tally 1\n";

static bool tally_path(const char *dir, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/" STATIDX_DIR "/" RCACHE_TALLY_FILE, dir);
    return n > 0 && (size_t)n < cap;
}

bool rcache_tally_load(const char *dir, rcache_tally_t *out)
{
    char path[4096];
    uint8_t *data = NULL;
    size_t len = 0;
    char *text, *line, *save = NULL;
    bool ok;

    *out = (rcache_tally_t){0};
    if (dir == NULL || !tally_path(dir, path, sizeof path) ||
        !file_read_all(path, 64 * 1024, &data, &len))
        return false;
    if ((text = st_malloc(len + 1)) == NULL) {
        st_free(data);
        return false;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    st_free(data);
    ok = strncmp(text, tally_magic, sizeof tally_magic - 1) == 0;
    for (line = strtok_r(text + (ok ? sizeof tally_magic - 1 : len), "\n", &save);
         ok && line != NULL; line = strtok_r(NULL, "\n", &save)) {
        static const struct {
            const char *name;
            size_t off;
        } fields[] = {
            {"runs", offsetof(rcache_tally_t, runs)},
            {"opened", offsetof(rcache_tally_t, opened)},
            {"hits", offsetof(rcache_tally_t, sum.hits)},
            {"misses", offsetof(rcache_tally_t, sum.misses)},
            {"errors", offsetof(rcache_tally_t, sum.errors)},
            {"corrupt", offsetof(rcache_tally_t, sum.corrupt)},
            {"bytes_down", offsetof(rcache_tally_t, sum.bytes_down)},
            {"uploaded", offsetof(rcache_tally_t, sum.uploaded)},
            {"bytes_up", offsetof(rcache_tally_t, sum.bytes_up)},
            {"skipped", offsetof(rcache_tally_t, sum.skipped)},
            {"dropped", offsetof(rcache_tally_t, sum.dropped)},
            {"wait_ms", offsetof(rcache_tally_t, sum.wait_ms)},
        };
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        if (strcmp(line, "url") == 0) {
            snprintf(out->url, sizeof out->url, "%s", eq + 1);
            continue;
        }
        for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
            if (strcmp(line, fields[k].name) == 0)
                *(uint64_t *)((char *)out + fields[k].off) = strtoull(eq + 1, NULL, 10);
    }
    st_free(text);
    if (!ok)
        *out = (rcache_tally_t){0};
    return ok;
}

void rcache_tally_add(const char *dir, const char *url, const rcache_stats_t *run)
{
    rcache_tally_t t;
    buf_t b;
    st_err_t ignored = {0};

    if (dir == NULL)
        return;
    (void)rcache_tally_load(dir, &t);
    t.runs++;
    t.opened += run->open;
    t.sum.hits += run->hits;
    t.sum.misses += run->misses;
    t.sum.errors += run->errors;
    t.sum.corrupt += run->corrupt;
    t.sum.bytes_down += run->bytes_down;
    t.sum.uploaded += run->uploaded;
    t.sum.bytes_up += run->bytes_up;
    t.sum.skipped += run->skipped;
    t.sum.dropped += run->dropped;
    t.sum.wait_ms += run->wait_ms;
    buf_init(&b);
    buf_printf(&b,
               "%surl=%s\nruns=%llu\nopened=%llu\nhits=%llu\nmisses=%llu\nerrors=%llu\n"
               "corrupt=%llu\nbytes_down=%llu\nuploaded=%llu\nbytes_up=%llu\nskipped=%llu\n"
               "dropped=%llu\nwait_ms=%llu\n",
               tally_magic, url, (unsigned long long)t.runs, (unsigned long long)t.opened,
               (unsigned long long)t.sum.hits, (unsigned long long)t.sum.misses,
               (unsigned long long)t.sum.errors, (unsigned long long)t.sum.corrupt,
               (unsigned long long)t.sum.bytes_down, (unsigned long long)t.sum.uploaded,
               (unsigned long long)t.sum.bytes_up, (unsigned long long)t.sum.skipped,
               (unsigned long long)t.sum.dropped, (unsigned long long)t.sum.wait_ms);
    if (b.data != NULL)
        (void)statidx_write(dir, RCACHE_TALLY_FILE, b.data, b.len, &ignored);
    buf_free(&b);
}

bool rcache_usable(const rcache_t *self)
{
    return self != NULL && !atomic_load(&self->open);
}

const char *rcache_url(const rcache_t *self)
{
    return self->url;
}
