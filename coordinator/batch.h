/* batch.h - a coordinator batch's thread (see batch.c). */
#ifndef STRATA_COORDINATOR_BATCH_H
#define STRATA_COORDINATOR_BATCH_H

#include "coordinator/daemon_private.h"

/* The thread of batch arg (a batch_t *, its dm and p set): from SUBMIT to
 * DONE; sets over when it ends. */
void *batch_main(void *arg);

/* Frees a batch whose thread was joined (or never started); NULL-safe. */
void batch_free(batch_t **bp);

#endif
