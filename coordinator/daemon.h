/* daemon.h - `strata coordinator`: the cluster's coordinator daemon.
 *
 * It binds two ROUTER sockets: one for clients (`strata submit`, the client
 * protocol of common/proto.h) and the dispatcher's (coordinator/dispatch.h)
 * for workers (`strata worker --connect`). Up to 16 clients' batches have
 * a thread of their own, and 4 of those scan and check at once, in the
 * order they started (a batch waiting for its uploads holds no run slot;
 * batches of the same files may run together: they store the same bytes
 * under the same keys); the others wait in the order their SUBMITs arrived
 * (64 at most, more are refused), and a client waiting its turn gets
 * PROGRESS messages (with "queued") as heartbeats. For a batch:
 *
 *   SUBMIT -> the scan keys (from the digests the client sent) and one
 *   lookup of the whole run's diagnostics under a digest of them, the roots
 *   and the arguments (project_keyed) -> NEED (the files whose content,
 *   keyed by its SHA-256, is not in the cache's CAS_BLOBS) -> UPLOADs (each
 *   blob decompressed and verified against its digest before it is stored;
 *   a mismatch ends the batch with an error DONE) -> when the whole run was
 *   found, DONE with it at once (no scan result, graph nor check job: an
 *   unchanged re-submit costs the blob lookups and that one lookup); else
 *   scan results from the cache (CAS_RESULTS, keyed by worker/jobkey.h) or
 *   from scan jobs sent to the workers -> the project stage
 *   (run/project.h: graph, check jobs with the cache, sent to the
 *   workers) -> DONE with every file's diagnostics (all codes: the client
 *   applies --select/--ignore), the whole run's stored for next time when
 *   nothing failed.
 *
 * Jobs go to the workers through coordinator/calls.h; when no worker has
 * been connected for the grace period they run in this process instead,
 * scans and checks alike. The log has a line per batch, with how many
 * check jobs ran on workers and how many here, and whether the whole run
 * came from the cache.
 *
 * While a batch runs, its client gets a PROGRESS every 500 ms or so. A
 * client silent for 30 s while its blobs are awaited loses its batch, and
 * so does one that is gone (a message to it finds no connection; while it
 * uploads, a PROGRESS every 2 s asks) or does not read (256 messages wait
 * for it). On
 * daemon_stop every batch running or waiting gets an error DONE saying
 * the coordinator is stopping, and daemon_run returns within 2 s.
 *
 * Hostile peers: every message is read whole (coordinator/frames.h) and
 * validated before use, in every state. A client is its CURVE key, or
 * without keys its address as ZeroMQ gives it (the IP for tcp, the peer's
 * user and process for ipc); each has a cap
 * on its batches queued or running, on the bytes it has waiting here (its
 * queued SUBMITs and the UPLOADs not yet stored) and on the files of its
 * batches queued or running. A client over a cap gets an error DONE saying which; the others
 * are served. The queue as a whole holds at most 1 GiB of SUBMITs. Dropped
 * and refused messages are counted, and logged with a cap per peer and per
 * second (common/ratelog.h). The clients' socket queues at most 4
 * messages per connection (ZeroMQ then stops reading that peer), is not
 * read while a batch has 32 MB of uploads to store (flow control), and
 * drops connections whose handshake takes over 10 s.
 *
 * Authentication: with keys_dir, the coordinator's pair is
 * keys_dir/coordinator.key and both sockets are CURVE servers that accept
 * only the public keys of allow_dir's *.pub files: the client socket
 * through the ZAP handler of coordinator/keys.h (which logs a refused key),
 * the workers' socket through the dispatcher's own. Without keys, neither
 * socket may be bound to anything but loopback (127.0.0.0/8, ::1,
 * localhost) or ipc://, unless insecure. */
#ifndef STRATA_DAEMON_H
#define STRATA_DAEMON_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *bind;         /* clients: tcp://HOST:PORT or ipc://PATH */
    const char *workers_bind; /* NULL: daemon_workers_endpoint(bind) */
    const char *cache_dir;    /* NULL: cas_dir_default(NULL) */
    const char *keys_dir;     /* NULL: no CURVE */
    const char *allow_dir;    /* required with keys_dir */
    bool insecure;            /* allow non-loopback binds without keys */
    unsigned jobs;            /* CPUs for check jobs: a batch has 4 check threads per
                                 one (each mostly waits for a worker), and the
                                 checks run here (no worker) are at most this many
                                 at once, over all batches; 0: online CPUs */
    unsigned grace_ms;        /* no worker this long: scan and check here; 0: 1500 */
    unsigned job_timeout_ms;  /* a job attempt's deadline on a worker; 0: the
                                 dispatcher's default (dispatch.h) */
    unsigned client_batches;  /* a client's batches queued or running; 0: 4 */
    uint64_t client_bytes;    /* a client's bytes waiting here (queued SUBMITs,
                                 UPLOADs not yet stored); 0: 256 MiB */
    unsigned client_files;    /* files of a client queued or running; 0: 50000 */
    /* HOST:PORT of the metrics and health endpoint (coordinator/metricsd.h;
     * port 0: any, logged); NULL: none. */
    const char *metrics_bind;
    FILE *log; /* NULL: stderr */
} daemon_opts_t;

/* The default worker endpoint for a client endpoint: tcp://HOST:PORT+1, or
 * ipc://PATH.workers. ST_EINVAL when it cannot be derived (no numeric
 * port, a port of 65535, a path too long). Pure. */
st_rc_t daemon_workers_endpoint(const char *bind, char *out, size_t cap, st_err_t *err);

/* Binds, then serves until daemon_stop. ST_OK after a clean stop; ST_EINVAL
 * for a refused configuration (non-loopback without keys, bad keys, a
 * malformed metrics address), ST_EIO when a socket (the metrics one
 * included) cannot be bound; err says why. */
st_rc_t daemon_run(const daemon_opts_t *opts, st_err_t *err);

/* Asks daemon_run to stop (async-signal-safe). */
void daemon_stop(void);

#endif
