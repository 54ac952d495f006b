/* batch_env.h - a coordinator batch checked against its client's Python
 * environment.
 *
 * The coordinator has no environment of its own: the interpreter, the
 * stubs and the packages that count are the client's (strata submit finds
 * them as strata check would, and names them in its SUBMIT's "env"). So
 * the batch's run gets a finder (run/libfind.h lib_finder_t) whose every
 * call is a round trip: the names of one library round go to the client in
 * a LOOKUP, its LIBFILES says what its own finder answers, and the
 * contents of the library files the cache lacks come through NEED and
 * UPLOAD like the project's, each verified against the digest the client
 * gave before the run reads it. A client that does not answer, answers
 * another number of names, or gives more library files than a batch takes
 * ends the batch with an error DONE. A SUBMIT without "env" (an older
 * client, or --no-environment) has no finder: imports of the standard
 * library and of installed packages stay unknown, as before. */
#ifndef STRATA_COORDINATOR_BATCH_ENV_H
#define STRATA_COORDINATOR_BATCH_ENV_H

#include "common/proto.h"
#include "coordinator/daemon_private.h"

/* Takes SUBMIT's environment (validated by proto_decode_client) into b,
 * copied into b->arena. NULL, or why the batch cannot be served (out of
 * memory). Batch thread. */
const char *batch_env_load(batch_t *b, const proto_env_t *env);

/* The run options of b's environment: its finder (the client), target,
 * interpreter and key; nothing when the client sent none. The finder
 * borrows b: the run must end before b is freed. */
void batch_env_opts(batch_t *b, run_opts_t *o);

#endif
