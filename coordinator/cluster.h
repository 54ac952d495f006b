/* cluster.h - a coordinator's workers as a scan back end (run/backend.h).
 *
 * A coordinator batch's scans go to the cluster's workers through the
 * daemon's calls (coordinator/calls.h), whose dispatcher the daemon's main
 * thread drives; the batch's thread is the run's. So submit reads the
 * blob, builds the job and hands it to calls_submit; the call's end comes
 * on the main thread, which only queues it; poll waits for that queue and
 * ends the jobs on the batch's thread. A job given back (no worker for
 * the grace period, too large) the run scans itself. The check jobs go
 * through the same calls (calls_check), counted for the batch's log line.
 * Stopping waits until every call of the back end has ended, so that no
 * callback sees it freed. */
#ifndef STRATA_COORDINATOR_CLUSTER_H
#define STRATA_COORDINATOR_CLUSTER_H

#include "coordinator/calls.h"
#include "run/backend.h"

/* The back end over calls (borrowed: it outlives the back end), whose
 * check stage uses policy_check_threads(POLICY_CLUSTER, jobs, 0) threads.
 * ST_ENOMEM. */
st_rc_t cluster_backend_new(calls_t *calls, unsigned jobs, backend_t *out, st_err_t *err);

#endif
