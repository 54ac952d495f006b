/* health.h - `strata health`: ask a daemon's /healthz and exit 0 when it
 * answers 200.
 *
 * A container image of strata has no shell and no HTTP client, yet its
 * HEALTHCHECK must ask the daemon inside whether its main loop still
 * turns (the coordinator's and the worker's /healthz, served with
 * --metrics-bind). The binary asks itself: one GET over a plain TCP
 * connection, bounded in time, so a hung daemon makes the probe fail
 * rather than hang. */
#ifndef STRATA_CLI_HEALTH_H
#define STRATA_CLI_HEALTH_H

#include <stdio.h>

/* The port asked when neither the argument nor STRATA_HEALTH names one:
 * the one the Kubernetes manifests and the compose file give --metrics-bind. */
#define HEALTH_DEFAULT_ADDR "127.0.0.1:9464"

/* Runs `strata health [--timeout SECONDS] [HOST:PORT]` (argv after the
 * command's name). Returns the exit status: 0 the daemon answered 200, 1
 * it answered something else, or not in time, or nothing listens there
 * (one line on errout says which), 2 a usage error. Writes --help to out.
 * Not thread-safe (one call per process). */
int health_run(int argc, char **argv, FILE *out, FILE *errout);

/* The text of `strata health --help`; a static string. */
const char *health_usage(void);

#endif
