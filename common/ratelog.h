/* ratelog.h - how many lines a flood of bad messages may write to a log.
 *
 * A daemon logs each message it refuses or drops, naming the peer, so that
 * an operator can see who misbehaves. A peer that sends a million bad
 * messages must not write a million lines: each peer gets a few lines per
 * window, all peers together a few lines per second, and what is held back
 * is counted and said in one line now and then. Peers are told apart by a
 * 64-bit hash of their name in a fixed table (peers that share a slot share
 * a cap: fewer lines, never more), so a flood of new peers costs no
 * memory. Thread-safe: the ZAP thread and a daemon's main thread
 * share one. */
#ifndef STRATA_RATELOG_H
#define STRATA_RATELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ratelog ratelog_t;

typedef struct {
    unsigned per_peer;   /* lines per peer per window; 0: 10 */
    unsigned window_ms;  /* the per-peer window; 0: 60000 */
    unsigned per_second; /* lines of all peers per second; 0: 5 */
} ratelog_opts_t;

/* A new limiter (caller frees with ratelog_destroy); NULL when out of
 * memory. opts NULL: the defaults. */
ratelog_t *ratelog_new(const ratelog_opts_t *opts);
void ratelog_destroy(ratelog_t **self_p);

/* Counts one event about peer (a NUL-terminated name) at now_ms (a
 * monotonic clock) and says whether its line may be written; when not, it
 * is counted as held back. */
bool ratelog_allow(ratelog_t *self, const char *peer, uint64_t now_ms);

/* The events held back since the last call that returned non-zero, once
 * every_ms at most (0 otherwise): the caller writes one line saying so.
 * *total gets the events counted since the start, logged or not. */
uint64_t ratelog_held(ratelog_t *self, uint64_t now_ms, uint64_t every_ms, uint64_t *total);

#endif
