/* batch.h - a coordinator batch's thread (see batch.c). */
#ifndef STRATA_COORDINATOR_BATCH_H
#define STRATA_COORDINATOR_BATCH_H

#include "coordinator/daemon_private.h"

/* The thread of batch arg (a batch_t *, its dm and p set): from SUBMIT to
 * DONE; sets over when it ends. */
void *batch_main(void *arg);

/* Frees a batch whose thread was joined (or never started); NULL-safe. */
void batch_free(batch_t **bp);

/* What the batch thread's steps share (coordinator/batch.c, batch_env.c),
 * on the batch's thread only: */

/* Waits for a run slot, given to the batches in the order they started;
 * false when the daemon stops first. batch__slot_give gives it back (none
 * held: nothing): a batch holds one only while it scans or checks, not
 * while it waits for its client. */
bool batch__slot_take(batch_t *b);
void batch__slot_give(batch_t *b);

/* Hands b->out (moved) to the main thread for the batch's client. */
void batch__post(batch_t *b);

/* Whether the main thread routes the client's UPLOADs and LIBFILES to the
 * batch's inbox (set before the message they answer is posted). */
void batch__set_accepting(batch_t *b, bool on);

/* Takes the client's uploads until every needed blob is in (b->n_needed
 * 0), then stops accepting. False when the client went over its cap or an
 * upload was refused (b->rc), the daemon stops, or the client is gone or
 * silent for DAEMON_UPLOAD_IDLE_MS (*dropped: logged, nobody to answer). */
bool batch__uploads(batch_t *b, bool *dropped);

/* Waits for the client's LIBFILES (uploads meanwhile stored): true with
 * *answer the caller's (zmq_msg_close, st_free); false as batch__uploads. */
bool batch__await_answer(batch_t *b, zmq_msg_t **answer, bool *dropped);

#endif
