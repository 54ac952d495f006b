/* cachecmd.h - `strata cache`: look into the cache and maintain it.
 *
 * The cache of scan results grows with every new file version it sees; a
 * user needs to know how big it is and how well it works (stats), to check
 * it after a crash or a disk problem (verify), to bound it (gc) and to
 * start over (clear). These commands open the same store `strata check`
 * uses, with the same directory rules (cas_dir_default). */
#ifndef STRATA_CLI_CACHECMD_H
#define STRATA_CLI_CACHECMD_H

#include <stdio.h>

/* Runs `strata cache` with the arguments after "cache" (argv[0] is the
 * action). Writes results to out and messages to errout. Returns the exit
 * status: 0 done, 2 for bad arguments (with a message) or a cache that
 * cannot be opened or fails. A directory that does not exist is an empty
 * cache, not an error, and is not created. Single-threaded. */
int cachecmd_run(int argc, char **argv, FILE *out, FILE *errout);

#endif
