/* client.h - `strata submit`: a check run on a cluster's coordinator.
 *
 * The client walks and hashes the files here (the same walk and the same
 * reads as strata check: a file it cannot read, or one over the size limit,
 * gets the same E902, reported here), sends the list (SUBMIT), uploads the
 * contents the coordinator asks for (NEED -> UPLOAD, zstd level 3, each
 * read again and checked against its digest), and waits for DONE, counting
 * any message (PROGRESS included) as a sign of life. The diagnostics of DONE
 * (every code) go through a report with the user's rules, printed as
 * strata check prints them, with the same exit status.
 *
 * A coordinator silent for the timeout ends the run with exit 2 and a
 * message; when the CURVE handshake was refused, the message says so. */
#ifndef STRATA_CLI_SUBMIT_H
#define STRATA_CLI_SUBMIT_H

#include "cli/config.h"
#include "cli/options.h"

#include <stdio.h>

/* Runs a parsed `strata submit` under the configuration conf (borrowed;
 * NULL: the command line's rules only); output on out, messages on errs.
 * The exit status: 0 clean, 1 diagnostics, 2 error. */
int client_submit(const cli_submit_t *cfg, config_set_t *conf, FILE *out, FILE *errs);

#endif
