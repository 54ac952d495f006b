/* lspio.c - LSP's framing: header blocks, bodies, the size limit.
 *
 * Bytes are kept in one buffer consumed from the front and compacted when
 * half of it is consumed; a body over the limit is never kept, its bytes
 * dropped as they come, so a client that announces 100 GB costs nothing. */
#include "cli/lspio.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct lspio {
    char *buf;
    size_t len, pos, cap; /* bytes buf[pos..len) not consumed yet */
    size_t max_body;
    bool in_body; /* a header block was read: body_len bytes come next */
    size_t body_len;
    size_t skip; /* bytes of an oversized body still to drop */
};

lspio_t *lspio_new(size_t max_body)
{
    lspio_t *r = st_calloc(1, sizeof *r);

    if (r != NULL)
        r->max_body = max_body != 0 ? max_body : LSPIO_DEFAULT_MAX_BODY;
    return r;
}

void lspio_destroy(lspio_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    st_free((*self_p)->buf);
    st_free(*self_p);
    *self_p = NULL;
}

size_t lspio_pending(const lspio_t *self)
{
    return self->len - self->pos;
}

st_rc_t lspio_feed(lspio_t *self, const void *data, size_t n, st_err_t *err)
{
    if (self->pos > 0 && self->pos * 2 >= self->len) {
        memmove(self->buf, self->buf + self->pos, self->len - self->pos);
        self->len -= self->pos;
        self->pos = 0;
    }
    if (n > SIZE_MAX - self->len)
        return st_fail(err, ST_ELIMIT, "input too large");
    if (self->len + n > self->cap) {
        size_t cap = self->cap != 0 ? self->cap : 4096;
        char *p;

        while (cap < self->len + n)
            cap = cap > SIZE_MAX / 2 ? self->len + n : cap * 2;
        if ((p = st_realloc(self->buf, cap)) == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory reading a message");
        self->buf = p;
        self->cap = cap;
    }
    if (n > 0)
        memcpy(self->buf + self->len, data, n);
    self->len += n;
    return ST_OK;
}

/* The value of a Content-Length line (after the colon): digits between
 * optional blanks; false for anything else or past 2^62. */
static bool parse_length(const char *s, size_t n, size_t *out)
{
    size_t i = 0, v = 0, digits = 0;

    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (v > ((size_t)1 << 58))
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (digits == 0 || i != n)
        return false;
    *out = v;
    return true;
}

/* The Content-Length of the header block h[0..n) (its lines without the
 * blank one); false when it has none, a bad one, or two. */
static bool header_length(const char *h, size_t n, size_t *out)
{
    static const char key[] = "content-length:";
    bool found = false;
    size_t i = 0;

    while (i < n) {
        const char *eol = memchr(h + i, '\r', n - i);
        size_t end = eol != NULL ? (size_t)(eol - h) : n;

        if (end - i >= sizeof key - 1 && strncasecmp(h + i, key, sizeof key - 1) == 0) {
            if (found || !parse_length(h + i + sizeof key - 1, end - i - (sizeof key - 1), out))
                return false;
            found = true;
        } else if (memchr(h + i, ':', end - i) == NULL) {
            return false; /* not a header field */
        }
        i = end + 2; /* past "\r\n" */
    }
    return found;
}

/* Finds "\r\n\r\n" in s[0..n); its offset or n. */
static size_t find_blank(const char *s, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        const char *p = memchr(s + i, '\r', n - i);

        if (p == NULL)
            return n;
        i = (size_t)(p - s);
        if (i + 4 <= n && memcmp(p, "\r\n\r\n", 4) == 0)
            return i;
    }
    return n;
}

static lspio_event_t read_header(lspio_t *self, size_t *len)
{
    const char *h = self->buf + self->pos;
    size_t avail = self->len - self->pos;
    size_t scan = avail < LSPIO_MAX_HEADER + 4 ? avail : LSPIO_MAX_HEADER + 4;
    size_t end = find_blank(h, scan), length;

    if (end == scan) {
        if (avail <= LSPIO_MAX_HEADER)
            return LSPIO_NONE;
        self->pos = self->len - 3; /* keep what may start a "\r\n\r\n" */
        return LSPIO_BAD_HEADER;
    }
    self->pos += end + 4;
    if (!header_length(h, end, &length))
        return LSPIO_BAD_HEADER;
    if (length > self->max_body) {
        self->skip = length;
        *len = length;
        return LSPIO_TOO_LARGE;
    }
    self->in_body = true;
    self->body_len = length;
    return LSPIO_NONE;
}

lspio_event_t lspio_next(lspio_t *self, const char **body, size_t *len)
{
    for (;;) {
        size_t avail = self->len - self->pos;

        if (self->skip > 0) {
            size_t k = avail < self->skip ? avail : self->skip;

            self->pos += k;
            self->skip -= k;
            if (self->skip > 0)
                return LSPIO_NONE;
            continue;
        }
        if (self->in_body) {
            if (avail < self->body_len)
                return LSPIO_NONE;
            *body = self->buf + self->pos;
            *len = self->body_len;
            self->pos += self->body_len;
            self->in_body = false;
            return LSPIO_MESSAGE;
        }
        lspio_event_t ev = read_header(self, len);

        if (ev != LSPIO_NONE || !self->in_body)
            return ev;
    }
}

static st_rc_t write_all(int fd, const char *p, size_t n, const volatile sig_atomic_t *stop,
                         st_err_t *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        /* a client that reads nothing blocks the write: a stop signal
           interrupts it (no SA_RESTART) and ends it */
        if (w < 0 && errno == EINTR && stop != NULL && *stop)
            return st_fail(err, ST_EIO, "writing a message: stopped by a signal");
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return st_fail(err, ST_EIO, "writing a message: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return ST_OK;
}

st_rc_t lspio_write(int fd, const char *body, size_t len, const volatile sig_atomic_t *stop,
                    st_err_t *err)
{
    char head[64];
    int k = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", len);
    st_rc_t rc = write_all(fd, head, (size_t)k, stop, err);

    return rc == ST_OK ? write_all(fd, body, len, stop, err) : rc;
}
