/* ratelog.c - caps on log lines per peer and per second (see ratelog.h).
 *
 * The table is direct-mapped: a peer's slot is its hash modulo the size,
 * and peers that share a slot share its count until its window ends. Under
 * a flood of new peers that caps them together, which is what a bounded
 * table must do; the global cap per second holds whatever the peers. */
#include "common/ratelog.h"

#include "common/alloc.h"

#include <pthread.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define RATELOG_SLOTS 1024u

typedef struct {
    uint64_t hash;         /* the peer that opened the window */
    uint64_t window_start; /* 0: never used */
    unsigned lines;
} slot_t;

struct ratelog {
    ratelog_opts_t opts;
    pthread_mutex_t lock;
    uint64_t second_start;
    unsigned second_lines;
    uint64_t held, total, last_report;
    slot_t slots[RATELOG_SLOTS];
};

ratelog_t *ratelog_new(const ratelog_opts_t *opts)
{
    ratelog_t *r = st_calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    if (opts != NULL)
        r->opts = *opts;
    r->opts.per_peer = r->opts.per_peer == 0 ? 10 : r->opts.per_peer;
    r->opts.window_ms = r->opts.window_ms == 0 ? 60000 : r->opts.window_ms;
    r->opts.per_second = r->opts.per_second == 0 ? 5 : r->opts.per_second;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        st_free(r);
        return NULL;
    }
    return r;
}

void ratelog_destroy(ratelog_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    st_free(*self_p);
    *self_p = NULL;
}

bool ratelog_allow(ratelog_t *r, const char *peer, uint64_t now_ms)
{
    uint64_t h = XXH3_64bits(peer, strlen(peer));
    slot_t *s = &r->slots[h % RATELOG_SLOTS];
    bool ok;

    pthread_mutex_lock(&r->lock);
    r->total++;
    /* another peer in a live window shares its cap: fewer lines, never more */
    if (s->window_start == 0 || now_ms - s->window_start >= r->opts.window_ms)
        *s = (slot_t){.hash = h, .window_start = now_ms == 0 ? 1 : now_ms};
    if (now_ms - r->second_start >= 1000) {
        r->second_start = now_ms;
        r->second_lines = 0;
    }
    ok = s->lines < r->opts.per_peer && r->second_lines < r->opts.per_second;
    if (ok) {
        s->lines++;
        r->second_lines++;
    } else {
        r->held++;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

uint64_t ratelog_held(ratelog_t *r, uint64_t now_ms, uint64_t every_ms, uint64_t *total)
{
    uint64_t n = 0;

    pthread_mutex_lock(&r->lock);
    if (r->held > 0 && (r->last_report == 0 || now_ms - r->last_report >= every_ms)) {
        n = r->held;
        r->held = 0;
        r->last_report = now_ms == 0 ? 1 : now_ms;
    }
    if (total != NULL)
        *total = r->total;
    pthread_mutex_unlock(&r->lock);
    return n;
}
