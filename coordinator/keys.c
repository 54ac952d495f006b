/* keys.c - CurveZMQ key files, the allowlist, and the ZAP handler thread. */
#include "coordinator/keys.h"

#include "common/alloc.h"
#include "common/clock.h"
#include "common/ratelog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define KEYS_FILE_MAX 4096
#define KEYS_ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct keys_allow {
    unsigned char (*keys)[32];
    size_t n;
};

struct keys_zap {
    void *ctx;
    const keys_allow_t *allow;
    FILE *log;
    pthread_t thread;
    atomic_bool stop;
    atomic_size_t accepted, refused;
    void *sock;    /* bound in keys_zap_start, used and closed by the thread */
    ratelog_t *rl; /* caps on the lines about refused peers */
};

/* ---- key files ----------------------------------------------------------------- */

static st_rc_t write_file(const char *path, const char *text, mode_t mode, bool force,
                          st_err_t *err)
{
    int flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    size_t len = strlen(text), off = 0;

    if (fd < 0)
        return st_fail(err, errno == EEXIST ? ST_EEXIST : ST_EIO, "%s: %s%s", path, strerror(errno),
                       errno == EEXIST ? " (--force replaces it)" : "");
    if (fchmod(fd, mode) != 0) { /* O_TRUNC keeps an old mode */
        int e = errno;
        close(fd);
        return st_fail(err, ST_EIO, "%s: %s", path, strerror(e));
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return st_fail(err, ST_EIO, "%s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0)
        return st_fail(err, ST_EIO, "%s: %s", path, strerror(errno));
    return ST_OK;
}

st_rc_t keys_generate(const char *dir, const char *name, bool force, keys_pair_t *out,
                      st_err_t *err)
{
    keys_pair_t kp;
    char key_path[4096], pub_path[4096], text[256];
    struct stat st;
    st_rc_t rc;

    if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL)
        return st_fail(err, ST_EINVAL, "invalid key name '%s' (no '/', not empty)",
                       name == NULL ? "" : name);
    if (!zmq_has("curve") || zmq_curve_keypair(kp.public_z85, kp.secret_z85) != 0)
        return st_fail(err, ST_EINTERNAL, "this libzmq has no CURVE support");
    if ((size_t)snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name) >= sizeof key_path ||
        (size_t)snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name) >= sizeof pub_path)
        return st_fail(err, ST_EINVAL, "key path too long");
    if (!force && (stat(key_path, &st) == 0 || stat(pub_path, &st) == 0))
        return st_fail(err, ST_EEXIST, "%s: a key of that name exists (--force replaces it)",
                       stat(key_path, &st) == 0 ? key_path : pub_path);
    snprintf(text, sizeof text, "public: %s\nsecret: %s\n", kp.public_z85, kp.secret_z85);
    if ((rc = write_file(key_path, text, 0600, force, err)) != ST_OK)
        return rc;
    snprintf(text, sizeof text, "%s\n", kp.public_z85);
    if ((rc = write_file(pub_path, text, 0644, force, err)) != ST_OK) {
        unlink(key_path);
        return rc;
    }
    if (out != NULL)
        *out = kp;
    return ST_OK;
}

/* A Z85 key at s (40 characters that decode to 32 bytes). */
static bool z85_key(const char *s, size_t len, char out[KEYS_Z85_LEN + 1])
{
    unsigned char bin[32];

    if (len != KEYS_Z85_LEN)
        return false;
    memcpy(out, s, KEYS_Z85_LEN);
    out[KEYS_Z85_LEN] = '\0';
    return zmq_z85_decode(bin, out) != NULL;
}

/* The next line of text[*pos..len) without its newline (and '\r'). */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
    size_t start = *pos, end;

    if (start >= len)
        return false;
    end = start;
    while (end < len && text[end] != '\n')
        end++;
    *pos = end < len ? end + 1 : end;
    *line = text + start;
    *n = end - start;
    if (*n > 0 && (*line)[*n - 1] == '\r')
        (*n)--;
    return true;
}

st_rc_t keys_load(const char *path, keys_pair_t *out, st_err_t *err)
{
    char text[KEYS_FILE_MAX];
    keys_pair_t kp = {{0}, {0}};
    bool have_pub = false, have_sec = false;
    size_t len = 0, pos = 0, n;
    const char *line;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        return st_fail(err, ST_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        ssize_t r = read(fd, text + len, sizeof text - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return st_fail(err, ST_EIO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == sizeof text) {
            close(fd);
            return st_fail(err, ST_ECORRUPT, "%s: not a key file (too long)", path);
        }
    }
    close(fd);
    while (next_line(text, len, &pos, &line, &n)) {
        if (n == 0 || line[0] == '#')
            continue;
        if (n > 8 && memcmp(line, "public: ", 8) == 0 && !have_pub) {
            have_pub = z85_key(line + 8, n - 8, kp.public_z85);
            if (!have_pub)
                break;
        } else if (n > 8 && memcmp(line, "secret: ", 8) == 0 && !have_sec) {
            have_sec = z85_key(line + 8, n - 8, kp.secret_z85);
            if (!have_sec)
                break;
        } else if (!have_pub && !have_sec && z85_key(line, n, kp.public_z85)) {
            have_pub = true; /* a .pub file: the key alone */
        } else {
            have_pub = have_sec = false;
            break;
        }
    }
    if (!have_pub || (have_sec && pos < len))
        return st_fail(err, ST_ECORRUPT,
                       "%s: not a strata key file (expected a Z85 public key, "
                       "or 'public:' and 'secret:' lines)",
                       path);
    if (have_sec) {
        char derived[KEYS_Z85_LEN + 1];
        if (zmq_curve_public(derived, kp.secret_z85) != 0 || strcmp(derived, kp.public_z85) != 0)
            return st_fail(err, ST_ECORRUPT, "%s: the secret key does not match the public key",
                           path);
    }
    *out = kp;
    return ST_OK;
}

/* ---- addresses -------------------------------------------------------------------- */

bool keys_is_local(const char *ep)
{
    const char *host, *colon;
    size_t len;
    char h[256];

    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return true;
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    host = ep + 6;
    if ((colon = strrchr(host, ':')) == NULL || (len = (size_t)(colon - host)) == 0 ||
        len >= sizeof h)
        return false;
    memcpy(h, host, len);
    h[len] = '\0';
    if (strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 || strcmp(h, "[::1]") == 0)
        return true;
    if (strncmp(h, "127.", 4) != 0)
        return false;
    for (const char *p = h + 4; *p != '\0'; p++)
        if ((*p < '0' || *p > '9') && *p != '.')
            return false;
    return true;
}

/* ---- the allowlist --------------------------------------------------------------- */

st_rc_t keys_allow_load(const char *dir, keys_allow_t **out, st_err_t *err)
{
    keys_allow_t *a = st_calloc(1, sizeof *a);
    size_t cap = 0;
    DIR *d;
    struct dirent *de;
    st_rc_t rc = ST_OK;

    if (a == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    if ((d = opendir(dir)) == NULL) {
        st_free(a);
        return st_fail(err, ST_EIO, "allowlist %s: %s", dir, strerror(errno));
    }
    while (rc == ST_OK && (de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        char path[4096];
        keys_pair_t kp;
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".pub") != 0)
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) {
            rc = st_fail(err, ST_EINVAL, "allowlist %s: path too long", dir);
            break;
        }
        if ((rc = keys_load(path, &kp, err)) != ST_OK)
            break;
        if (a->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *grown = st_realloc(a->keys, ncap * sizeof *a->keys);
            if (grown == NULL) {
                rc = st_fail(err, ST_ENOMEM, "out of memory");
                break;
            }
            a->keys = grown;
            cap = ncap;
        }
        zmq_z85_decode(a->keys[a->n++], kp.public_z85);
    }
    closedir(d);
    if (rc != ST_OK) {
        keys_allow_destroy(&a);
        return rc;
    }
    *out = a;
    return ST_OK;
}

void keys_allow_destroy(keys_allow_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    st_free((*self_p)->keys);
    st_free(*self_p);
    *self_p = NULL;
}

st_rc_t keys_allow_from_z85(const char *const *keys, size_t n, keys_allow_t **out, st_err_t *err)
{
    keys_allow_t *a = st_calloc(1, sizeof *a);

    if (a == NULL || (a->keys = st_calloc(n == 0 ? 1 : n, sizeof *a->keys)) == NULL) {
        st_free(a);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if (keys[i] == NULL || strlen(keys[i]) != KEYS_Z85_LEN ||
            zmq_z85_decode(a->keys[i], keys[i]) == NULL) {
            keys_allow_destroy(&a);
            return st_fail(err, ST_EINVAL, "allowed key %zu is not 40 Z85 characters", i + 1);
        }
    a->n = n;
    *out = a;
    return ST_OK;
}

void keys_allow_z85(const keys_allow_t *self, size_t i, char out[KEYS_Z85_LEN + 1])
{
    zmq_z85_encode(out, self->keys[i], 32);
}

size_t keys_allow_count(const keys_allow_t *self)
{
    return self->n;
}

bool keys_allow_has(const keys_allow_t *self, const unsigned char key[32])
{
    for (size_t i = 0; i < self->n; i++)
        if (memcmp(self->keys[i], key, 32) == 0)
            return true;
    return false;
}

/* ---- the ZAP handler ----------------------------------------------------------- */

#define KEYS_ZAP_FRAMES 8 /* a request has 7 */

bool keys_zap_answer(void *sock, int recv_flags, const keys_allow_t *allow, keys_zap_verdict_t *v)
{
    zmq_msg_t f[KEYS_ZAP_FRAMES];
    int n = 0, more = 1;
    size_t more_len = sizeof more;

    for (; n < KEYS_ZAP_FRAMES && more; n++) {
        zmq_msg_init(&f[n]);
        if (zmq_msg_recv(&f[n], sock, n == 0 ? recv_flags : 0) < 0) {
            zmq_msg_close(&f[n]);
            more = 0;
            break;
        }
        if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len) != 0)
            more = 0;
    }
    while (more) { /* more frames than a request has: read them away */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, sock, 0) < 0 ||
            zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len) != 0)
            more = 0;
        zmq_msg_close(&extra);
    }
    if (n == 0)
        return false;
    /* version, request id, domain, address, routing id, mechanism, key */
    *v = (keys_zap_verdict_t){.key = "?", .addr = "?"};
    v->curve = n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0;
    if (v->curve && zmq_msg_size(&f[6]) == 32) {
        zmq_z85_encode(v->key, (const uint8_t *)zmq_msg_data(&f[6]), 32);
        v->allowed = keys_allow_has(allow, (const unsigned char *)zmq_msg_data(&f[6]));
    }
    if (n >= 4)
        snprintf(v->addr, sizeof v->addr, "%.*s", (int)zmq_msg_size(&f[3]),
                 (const char *)zmq_msg_data(&f[3]));
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, n >= 2 ? zmq_msg_data(&f[1]) : "", n >= 2 ? zmq_msg_size(&f[1]) : 0,
             ZMQ_SNDMORE);
    zmq_send(sock, v->allowed ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(sock, v->allowed ? "OK" : "key not allowed", v->allowed ? 2 : 15, ZMQ_SNDMORE);
    /* the user id: the key, which a message's "User-Id" property then names,
       so that a client's caps follow its key whatever its connection */
    zmq_send(sock, v->allowed ? v->key : "", v->allowed ? strlen(v->key) : 0, ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
    for (int k = 0; k < n; k++)
        zmq_msg_close(&f[k]);
    return true;
}

static void *zap_main(void *arg)
{
    keys_zap_t *z = arg;

    while (!atomic_load(&z->stop)) {
        zmq_pollitem_t item = {.socket = z->sock, .events = ZMQ_POLLIN};
        keys_zap_verdict_t v;
        if (zmq_poll(&item, 1, 100) <= 0 || !(item.revents & ZMQ_POLLIN) ||
            !keys_zap_answer(z->sock, ZMQ_DONTWAIT, z->allow, &v))
            continue;
        if (v.allowed) {
            atomic_fetch_add(&z->accepted, 1);
            continue;
        }
        atomic_fetch_add(&z->refused, 1);
        if (z->rl == NULL || ratelog_allow(z->rl, v.addr, clock_ms()))
            fprintf(z->log != NULL ? z->log : stderr,
                    "strata: refused a peer at %s: %s key %s is not in the allowlist\n", v.addr,
                    v.curve ? "CURVE" : "non-CURVE", v.key);
    }
    zmq_close(z->sock);
    return NULL;
}

st_rc_t keys_zap_start(void *ctx, const keys_allow_t *allow, FILE *log, keys_zap_t **out,
                       st_err_t *err)
{
    keys_zap_t *z = st_calloc(1, sizeof *z);
    int linger = 0;

    if (z == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    z->ctx = ctx;
    z->allow = allow;
    z->log = log;
    atomic_init(&z->stop, false);
    atomic_init(&z->accepted, 0);
    atomic_init(&z->refused, 0);
    z->rl = ratelog_new(NULL); /* NULL (out of memory): every refusal logged */
    if ((z->sock = zmq_socket(ctx, ZMQ_REP)) == NULL ||
        zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(z->sock, KEYS_ZAP_ENDPOINT) != 0) {
        int e = zmq_errno();
        if (z->sock != NULL)
            zmq_close(z->sock);
        ratelog_destroy(&z->rl);
        st_free(z);
        return st_fail(err, ST_EIO, "cannot start the ZAP handler: %s", zmq_strerror(e));
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        zmq_close(z->sock);
        ratelog_destroy(&z->rl);
        st_free(z);
        return st_fail(err, ST_ENOMEM, "cannot start the ZAP handler thread");
    }
    *out = z;
    return ST_OK;
}

void keys_zap_stop(keys_zap_t **self_p)
{
    keys_zap_t *z = self_p != NULL ? *self_p : NULL;

    if (z == NULL)
        return;
    atomic_store(&z->stop, true);
    pthread_join(z->thread, NULL);
    ratelog_destroy(&z->rl);
    st_free(z);
    *self_p = NULL;
}

void keys_zap_counts(const keys_zap_t *self, size_t *accepted, size_t *refused)
{
    *accepted = atomic_load(&self->accepted);
    *refused = atomic_load(&self->refused);
}
