/* keys.h - CurveZMQ key pairs, the coordinator's allowlist, its ZAP handler.
 *
 * A cluster authenticates with CurveZMQ: every coordinator, worker and
 * client has a key pair (`strata keygen`), and a coordinator accepts only
 * peers whose public key is in its allowlist directory. Keys are stored as
 * Z85 text (40 characters), the form libzmq's socket options take:
 *   NAME.pub   the public key, one line (hand it to the other side);
 *   NAME.key   "public: <z85>" and "secret: <z85>" lines, mode 0600.
 * The allowlist is a directory of .pub files, read at start.
 *
 * The ZAP handler (RFC 27, ZeroMQ's authentication protocol) is a thread
 * that answers libzmq's requests on inproc://zeromq.zap.01 for every CURVE
 * handshake on sockets of its context: 200 for an allowed public key, 400
 * otherwise, and a refused peer is logged with its key and address. */
#ifndef STRATA_KEYS_H
#define STRATA_KEYS_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define KEYS_Z85_LEN 40

/* Whether only this host can reach a ZeroMQ endpoint: ipc://, inproc://, or
 * tcp:// on 127.x.y.z, localhost or ::1. A coordinator without keys binds
 * nothing else unless told it is insecure. */
bool keys_is_local(const char *endpoint);

typedef struct {
    char public_z85[KEYS_Z85_LEN + 1];
    char secret_z85[KEYS_Z85_LEN + 1];
} keys_pair_t;

/* Writes a new key pair as DIR/NAME.key and DIR/NAME.pub. ST_EEXIST when
 * either exists and !force; ST_EINVAL for a name that is empty or holds
 * '/'; ST_EIO with the system's reason; ST_EINTERNAL when libzmq has no
 * CURVE. On success *out (if not NULL) holds the pair. */
st_rc_t keys_generate(const char *dir, const char *name, bool force, keys_pair_t *out,
                      st_err_t *err);

/* Reads a NAME.key file (both keys) or a .pub file (public_z85 only,
 * secret_z85 empty). ST_ECORRUPT with a message for anything that is not
 * exactly such a file (wrong length, not Z85, a secret key that does not
 * match its public key); ST_EIO when it cannot be read. */
st_rc_t keys_load(const char *path, keys_pair_t *out, st_err_t *err);

typedef struct keys_allow keys_allow_t;

/* Loads every *.pub file of dir (others are ignored; a .pub that does not
 * parse is an error naming it). An empty directory is allowed (it refuses
 * everyone). */
st_rc_t keys_allow_load(const char *dir, keys_allow_t **out, st_err_t *err);
void keys_allow_destroy(keys_allow_t **self_p);
size_t keys_allow_count(const keys_allow_t *self);
/* Whether the 32-byte binary public key is allowed. */
bool keys_allow_has(const keys_allow_t *self, const unsigned char key[32]);
/* An allowlist of the given Z85 public keys (40 characters each); ST_EINVAL
 * naming the first that is not one. */
st_rc_t keys_allow_from_z85(const char *const *keys, size_t n, keys_allow_t **out, st_err_t *err);
/* Key i (< keys_allow_count) as Z85 text. */
void keys_allow_z85(const keys_allow_t *self, size_t i, char out[KEYS_Z85_LEN + 1]);

/* What keys_zap_answer decided about one handshake. */
typedef struct {
    bool allowed;
    bool curve;                 /* the peer used CURVE */
    char key[KEYS_Z85_LEN + 1]; /* its public key, "?" when none */
    char addr[64];              /* its address as ZeroMQ gives it */
} keys_zap_verdict_t;

/* Receives one ZAP request (RFC 27) on sock, a REP socket bound to
 * inproc://zeromq.zap.01, and answers it: 200 for a CURVE peer whose key
 * allow has (with the key in Z85 as the user id, which a message's
 * "User-Id" property then gives), 400 otherwise. recv_flags is for the first frame (0 to wait,
 * ZMQ_DONTWAIT not to). False when no request was waiting (or the socket
 * failed); *v says what was decided, for the caller to log. The one place
 * the protocol is spoken: keys_zap's thread and the dispatcher use it. */
bool keys_zap_answer(void *sock, int recv_flags, const keys_allow_t *allow, keys_zap_verdict_t *v);

typedef struct keys_zap keys_zap_t;

/* Starts the ZAP handler for zmq context ctx (a void * from zmq_ctx_new),
 * answering with allow (borrowed until keys_zap_stop); refusals are logged
 * to log (NULL: stderr), with a cap per address and per second
 * (common/ratelog.h) so that a flood of handshakes cannot fill a disk.
 * Start it before binding any CURVE socket. */
st_rc_t keys_zap_start(void *ctx, const keys_allow_t *allow, FILE *log, keys_zap_t **out,
                       st_err_t *err);
/* Stops and joins the handler thread; accepts NULL. Call before
 * zmq_ctx_term. */
void keys_zap_stop(keys_zap_t **self_p);
/* Handshakes answered so far: accepted and refused. */
void keys_zap_counts(const keys_zap_t *self, size_t *accepted, size_t *refused);

#endif
