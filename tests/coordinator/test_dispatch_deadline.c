/* test_dispatch_deadline.c - the job deadline of the dispatcher, against
 * fake workers in this process (DEALER sockets speaking the protocol), so
 * that the test decides exactly when, and whether, each attempt answers.
 *
 * What is checked: an attempt with no result past job_timeout_ms is retried
 * under a new wire id, on another worker when there is one; its late result
 * is ignored and frees the slot it held, which until then counts busy (a
 * one-slot worker gets nothing more); after max_retries the job ends
 * DISPATCH_LOST with a message saying it timed out. No assertion is about
 * time: every wait is "until it happens", with a generous limit. */
#include "test.h"

#include "common/buf.h"
#include "common/log.h"
#include "common/proto.h"
#include "coordinator/dispatch.h"
#include "worker/jobkey.h"
#include "worker/jobs.h"

#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WAIT_S 60
#define DEADLINE_MS 1500 /* long enough for an immediate answer under ASan on a busy host */

typedef struct {
    void *s;
    buf_t b;
} fake_t;

typedef struct {
    bool done;
    dispatch_status_t status;
    char result[512];
} outcome_t;

typedef struct {
    outcome_t job[8];
} outcomes_t;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_done(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    outcomes_t *o = ctx;
    size_t n = result.len < sizeof o->job[0].result - 1 ? result.len : sizeof o->job[0].result - 1;

    if (o == NULL || id >= 8)
        return;
    o->job[id].done = true;
    o->job[id].status = status;
    memcpy(o->job[id].result, result.ptr, n);
    o->job[id].result[n] = 0;
}

/* A fake worker with slots slots, registered with d. */
static bool fake_open(fake_t *f, void *zctx, dispatch_t *d, uint32_t slots)
{
    int zero = 0;
    proto_hello_t h = {.id = {"fake", 4},
                       .host = {"here", 4},
                       .version = {JOBS_ANALYZER_VERSION, strlen(JOBS_ANALYZER_VERSION)},
                       .cpu = {"none", 4},
                       .slots = slots};
    dispatch_stats_t st;
    size_t before;
    double end = now_s() + WAIT_S;

    buf_init(&f->b);
    dispatch_stats(d, &st);
    before = st.workers;
    if ((f->s = zmq_socket(zctx, ZMQ_DEALER)) == NULL)
        return false;
    zmq_setsockopt(f->s, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(f->s, dispatch_endpoint(d)) != 0 || proto_encode_hello(&f->b, &h) != ST_OK ||
        zmq_send(f->s, f->b.data, f->b.len, 0) < 0)
        return false;
    while (st.workers == before && now_s() < end) {
        dispatch_poll(d, 20, on_done, NULL, NULL);
        dispatch_stats(d, &st);
    }
    return st.workers > before;
}

static void fake_close(fake_t *f)
{
    zmq_close(f->s);
    buf_free(&f->b);
}

/* Polls d (outcomes into o) until one of the fakes receives a JOBS
 * message: its index, and its first job (input copied into f->b), or -1
 * after WAIT_S. Other messages (heartbeats) are skipped. */
static int next_job(dispatch_t *d, outcomes_t *o, fake_t *fakes, int n, proto_job_t *job)
{
    double end = now_s() + WAIT_S;

    while (now_s() < end) {
        dispatch_poll(d, 20, on_done, o, NULL);
        for (int i = 0; i < n; i++) {
            zmq_msg_t msg;
            proto_msg_t m;

            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, fakes[i].s, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&msg);
                continue;
            }
            buf_reset(&fakes[i].b);
            buf_append(&fakes[i].b, zmq_msg_data(&msg), zmq_msg_size(&msg));
            zmq_msg_close(&msg);
            if (proto_decode(fakes[i].b.data, fakes[i].b.len, &m, NULL) == ST_OK &&
                m.type == PROTO_JOBS && proto_next_job(&m, job))
                return i;
        }
    }
    return -1;
}

/* The fake answers the attempt under ticket with text. */
static void answer(fake_t *f, uint64_t ticket, const char *text)
{
    buf_t b;
    proto_batch_t batch;

    buf_init(&b);
    if (proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK &&
        proto_batch_result(&batch, ticket, PROTO_STATUS_OK,
                           (span_t){(const uint8_t *)text, strlen(text)}) == ST_OK) {
        proto_batch_end(&batch);
        zmq_send(f->s, b.data, b.len, 0);
    }
    buf_free(&b);
}

/* Polls d until pred holds on its stats (true) or WAIT_S passed. */
static bool until(dispatch_t *d, outcomes_t *o, bool (*pred)(const dispatch_stats_t *, uint64_t),
                  uint64_t arg)
{
    double end = now_s() + WAIT_S;
    dispatch_stats_t st;

    for (;;) {
        dispatch_stats(d, &st);
        if (pred(&st, arg))
            return true;
        if (now_s() >= end)
            return false;
        dispatch_poll(d, 20, on_done, o, NULL);
    }
}

static bool timeouts_at_least(const dispatch_stats_t *st, uint64_t n)
{
    return st->timeouts >= n;
}

static bool late_at_least(const dispatch_stats_t *st, uint64_t n)
{
    return st->late >= n;
}

static bool completed_at_least(const dispatch_stats_t *st, uint64_t n)
{
    return st->completed >= n;
}

static dispatch_t *start(void *zctx, const char *tag, unsigned max_retries)
{
    char addr[128];

    (void)zctx;
    snprintf(addr, sizeof addr, "ipc:///tmp/strata-test-%ld-%s", (long)getpid(), tag);
    return dispatch_new(&(dispatch_opts_t){.bind = addr,
                                           .depth = 1,
                                           .timeout_ms = 600000, /* the fakes never go silent */
                                           .job_timeout_ms = DEADLINE_MS,
                                           .max_retries = max_retries},
                        NULL);
}

static void stop(dispatch_t **d)
{
    char path[600];

    snprintf(path, sizeof path, "%s", dispatch_endpoint(*d) + strlen("ipc://"));
    dispatch_destroy(d);
    unlink(path);
}

static st_rc_t submit(dispatch_t *d, uint64_t id, const char *text)
{
    return dispatch_submit(d, id, JOBS_ECHO, (span_t){(const uint8_t *)text, strlen(text)}, NULL);
}

/* Two slots: the retry goes to the same (only) worker, in its free slot;
 * the late result of the first attempt is ignored and frees the other. */
TEST(dispatch_deadline_retries_on_the_free_slot_and_ignores_the_late_result)
{
    void *zctx = zmq_ctx_new();
    outcomes_t o = {0};
    dispatch_stats_t st;
    proto_job_t job;
    uint64_t first, second;
    dispatch_t *d;
    fake_t f;

    log_set_level(LOG_LEVEL_OFF);
    REQUIRE(zctx != NULL && (d = start(zctx, "dl-two", 0)) != NULL);
    REQUIRE(fake_open(&f, zctx, d, 2));
    REQUIRE(submit(d, 1, "one") == ST_OK);
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    first = job.id;
    CHECK(job.kind == JOBS_ECHO && job.input.len == 3);
    /* no answer: past the deadline it comes again, under another wire id */
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    second = job.id;
    CHECK(second != first);
    CHECK(job.input.len == 3 && memcmp(job.input.ptr, "one", 3) == 0);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.timeouts, 1);
    CHECK_EQ_INT(st.stuck, 1);
    CHECK_EQ_INT(st.in_flight, 1);
    CHECK(!o.job[1].done);
    answer(&f, second, "one");
    CHECK(until(d, &o, completed_at_least, 1));
    CHECK(o.job[1].done && o.job[1].status == DISPATCH_OK && strcmp(o.job[1].result, "one") == 0);
    /* one slot still held: two new jobs, one sent */
    REQUIRE(submit(d, 2, "two") == ST_OK && submit(d, 3, "three") == ST_OK);
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.in_flight, 1);
    CHECK_EQ_INT(st.queued, 1);
    /* the late result of the first attempt: ignored, and its slot is free */
    answer(&f, first, "stale");
    CHECK(until(d, &o, late_at_least, 1));
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.stuck, 0);
    CHECK_EQ_INT(st.completed, 1);
    CHECK_EQ_INT(st.in_flight, 2); /* the third job went out at once */
    CHECK_EQ_INT(st.queued, 0);
    fake_close(&f);
    stop(&d);
    zmq_ctx_term(zctx);
    log_set_level(LOG_LEVEL_WARN);
}

/* One slot, stuck: nothing more goes to that worker until the late result
 * frees it; the late result does not finish the job, the retry does. */
TEST(dispatch_deadline_stuck_slot_counts_busy_until_its_late_result)
{
    void *zctx = zmq_ctx_new();
    outcomes_t o = {0};
    dispatch_stats_t st;
    proto_job_t job;
    uint64_t first;
    dispatch_t *d;
    fake_t f;

    log_set_level(LOG_LEVEL_OFF);
    REQUIRE(zctx != NULL && (d = start(zctx, "dl-one", 0)) != NULL);
    REQUIRE(fake_open(&f, zctx, d, 1));
    REQUIRE(submit(d, 1, "one") == ST_OK);
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    first = job.id;
    CHECK(until(d, &o, timeouts_at_least, 1));
    for (int i = 0; i < 5; i++) /* rounds of sending: none may go */
        dispatch_poll(d, 0, on_done, &o, NULL);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.in_flight, 0);
    CHECK_EQ_INT(st.queued, 1);
    CHECK_EQ_INT(st.stuck, 1);
    answer(&f, first, "one");
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0); /* the slot is free: the retry */
    CHECK(job.id != first);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.late, 1);
    CHECK_EQ_INT(st.stuck, 0);
    CHECK(!o.job[1].done); /* the late result did not finish it */
    answer(&f, job.id, "one");
    CHECK(until(d, &o, completed_at_least, 1));
    CHECK(o.job[1].status == DISPATCH_OK);
    fake_close(&f);
    stop(&d);
    zmq_ctx_term(zctx);
    log_set_level(LOG_LEVEL_WARN);
}

/* With two workers, the retry goes to the other one. */
TEST(dispatch_deadline_retries_on_another_worker)
{
    void *zctx = zmq_ctx_new();
    outcomes_t o = {0};
    proto_job_t job;
    dispatch_t *d;
    fake_t f[2];
    int got, again;

    log_set_level(LOG_LEVEL_OFF);
    REQUIRE(zctx != NULL && (d = start(zctx, "dl-other", 0)) != NULL);
    REQUIRE(fake_open(&f[0], zctx, d, 4) && fake_open(&f[1], zctx, d, 4));
    REQUIRE(submit(d, 1, "one") == ST_OK);
    REQUIRE((got = next_job(d, &o, f, 2, &job)) >= 0);
    REQUIRE((again = next_job(d, &o, f, 2, &job)) >= 0);
    CHECK(again != got);
    answer(&f[again], job.id, "one");
    CHECK(until(d, &o, completed_at_least, 1));
    CHECK(o.job[1].status == DISPATCH_OK);
    fake_close(&f[0]);
    fake_close(&f[1]);
    stop(&d);
    zmq_ctx_term(zctx);
    log_set_level(LOG_LEVEL_WARN);
}

/* Past max_retries the job ends DISPATCH_LOST, saying it timed out; both
 * slots it hung stay counted busy. */
TEST(dispatch_deadline_gives_up_after_the_retries)
{
    void *zctx = zmq_ctx_new();
    outcomes_t o = {0};
    dispatch_stats_t st;
    proto_job_t job;
    dispatch_t *d;
    fake_t f;
    double end = now_s() + WAIT_S;

    log_set_level(LOG_LEVEL_OFF);
    REQUIRE(zctx != NULL && (d = start(zctx, "dl-lost", 1)) != NULL);
    REQUIRE(fake_open(&f, zctx, d, 4));
    REQUIRE(submit(d, 1, "one") == ST_OK);
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0); /* the one retry */
    while (!o.job[1].done && now_s() < end)
        dispatch_poll(d, 20, on_done, &o, NULL);
    CHECK(o.job[1].done && o.job[1].status == DISPATCH_LOST);
    CHECK(strstr(o.job[1].result, "job timed out 2 times") != NULL);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.lost, 1);
    CHECK_EQ_INT(st.timeouts, 2);
    CHECK_EQ_INT(st.retries, 1);
    CHECK_EQ_INT(st.stuck, 2);
    CHECK_EQ_INT(dispatch_pending(d), 0);
    fake_close(&f);
    stop(&d);
    zmq_ctx_term(zctx);
    log_set_level(LOG_LEVEL_WARN);
}

/* A queued job taken back is never sent and never finishes; the others keep
 * their order; a job in flight cannot be taken back. */
TEST(dispatch_cancel_takes_back_queued_jobs_only)
{
    void *zctx = zmq_ctx_new();
    outcomes_t o = {0};
    dispatch_stats_t st;
    proto_job_t job;
    dispatch_t *d;
    fake_t f;

    log_set_level(LOG_LEVEL_OFF);
    REQUIRE(zctx != NULL && (d = start(zctx, "dl-cancel", 0)) != NULL);
    REQUIRE(submit(d, 1, "one") == ST_OK && submit(d, 2, "two") == ST_OK &&
            submit(d, 3, "three") == ST_OK && submit(d, 4, "four") == ST_OK);
    CHECK(dispatch_cancel(d, 2));
    CHECK(!dispatch_cancel(d, 2)); /* gone */
    CHECK(!dispatch_cancel(d, 7)); /* never submitted */
    CHECK_EQ_INT(dispatch_pending(d), 3);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.cancelled, 1);
    CHECK_EQ_INT(st.queued, 3);
    /* a worker of one slot: 1 goes out, then (after its answer) 3, then 4 */
    REQUIRE(fake_open(&f, zctx, d, 1));
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    CHECK(job.input.len == 3 && memcmp(job.input.ptr, "one", 3) == 0);
    CHECK(!dispatch_cancel(d, 1)); /* in flight */
    answer(&f, job.id, "one");
    REQUIRE(next_job(d, &o, &f, 1, &job) == 0);
    CHECK(job.input.len == 5 && memcmp(job.input.ptr, "three", 5) == 0);
    CHECK(dispatch_cancel(d, 4)); /* the last one, still queued */
    answer(&f, job.id, "three");
    CHECK(until(d, &o, completed_at_least, 2));
    CHECK(o.job[1].done && o.job[3].done && !o.job[2].done && !o.job[4].done);
    CHECK_EQ_INT(dispatch_pending(d), 0);
    fake_close(&f);
    stop(&d);
    zmq_ctx_term(zctx);
    log_set_level(LOG_LEVEL_WARN);
}
