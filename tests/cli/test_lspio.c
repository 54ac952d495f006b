/* test_lspio.c - LSP's framing: whole and split messages, several in one
 * read, headers in any case and with Content-Type, bad header blocks, the
 * size limit (the body skipped, never kept), and the writer. */
#include "cli/lspio.h"
#include "common/alloc.h"
#include "test.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static lspio_event_t next(lspio_t *r, const char **b, size_t *n)
{
    return lspio_next(r, b, n);
}

static void feed(lspio_t *r, const char *s)
{
    st_err_t err = {0};

    CHECK(lspio_feed(r, s, strlen(s), &err) == ST_OK);
}

TEST(lspio_whole_and_split)
{
    lspio_t *r = lspio_new(0);
    const char *b;
    size_t n;
    const char *msg = "Content-Length: 2\r\n\r\n{}content-length:3\r\nContent-Type: x\r\n\r\n[1]";

    REQUIRE(r != NULL);
    for (size_t i = 0; msg[i] != '\0'; i++) { /* a byte at a time */
        char c[2] = {msg[i], 0};
        feed(r, c);
        lspio_event_t ev = next(r, &b, &n);
        if (i == 22) {
            CHECK(ev == LSPIO_MESSAGE && n == 2 && memcmp(b, "{}", 2) == 0);
        } else if (msg[i + 1] == '\0') {
            CHECK(ev == LSPIO_MESSAGE && n == 3 && memcmp(b, "[1]", 3) == 0);
        } else {
            CHECK(ev == LSPIO_NONE);
        }
    }
    CHECK_EQ_INT(lspio_pending(r), 0);
    feed(r, "Content-Length: 1\r\n\r\n1Content-Length: 1\r\n\r\n2");
    CHECK(next(r, &b, &n) == LSPIO_MESSAGE && *b == '1');
    CHECK(next(r, &b, &n) == LSPIO_MESSAGE && *b == '2');
    CHECK(next(r, &b, &n) == LSPIO_NONE);
    lspio_destroy(&r);
    CHECK(r == NULL);
    lspio_destroy(&r);
}

TEST(lspio_bad_headers)
{
    lspio_t *r = lspio_new(0);
    const char *b;
    size_t n;
    char big[LSPIO_MAX_HEADER + 100];

    REQUIRE(r != NULL);
    feed(r, "Content-Type: x\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    feed(r, "Content-Length: -1\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    feed(r, "Content-Length: 12x\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    feed(r, "Content-Length: 1\r\nContent-Length: 1\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    feed(r, "garbage\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    feed(r, "Content-Length: 99999999999999999999999\r\n\r\n");
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    feed(r, big); /* no blank line ever: dropped, bounded */
    CHECK(next(r, &b, &n) == LSPIO_BAD_HEADER);
    CHECK(lspio_pending(r) < 4);
    feed(r, "\r\n\r\nContent-Length: 2\r\n\r\nok");
    lspio_event_t ev;
    while ((ev = next(r, &b, &n)) == LSPIO_BAD_HEADER)
        ;
    CHECK(ev == LSPIO_MESSAGE && n == 2 && memcmp(b, "ok", 2) == 0);
    lspio_destroy(&r);
}

TEST(lspio_too_large_is_skipped)
{
    lspio_t *r = lspio_new(8);
    const char *b;
    size_t n = 0;

    REQUIRE(r != NULL);
    feed(r, "Content-Length: 20\r\n\r\n0123456789");
    CHECK(next(r, &b, &n) == LSPIO_TOO_LARGE && n == 20);
    CHECK(next(r, &b, &n) == LSPIO_NONE);
    feed(r, "0123456789Content-Length: 2\r\n\r\n{}");
    CHECK(next(r, &b, &n) == LSPIO_MESSAGE && n == 2);
    /* 2^58 announced: nothing allocated, skipped as it comes */
    feed(r, "Content-Length: 288230376151711744\r\n\r\nabc");
    CHECK(next(r, &b, &n) == LSPIO_TOO_LARGE);
    CHECK(next(r, &b, &n) == LSPIO_NONE);
    CHECK_EQ_INT(lspio_pending(r), 0);
    lspio_destroy(&r);
}

TEST(lspio_write_frames)
{
    int fds[2];
    char buf[64];
    st_err_t err = {0};
    ssize_t k;

    REQUIRE(pipe(fds) == 0);
    CHECK(lspio_write(fds[1], "{}", 2, NULL, &err) == ST_OK);
    k = read(fds[0], buf, sizeof buf - 1);
    REQUIRE(k > 0);
    buf[k] = '\0';
    CHECK_STREQ(buf, "Content-Length: 2\r\n\r\n{}");
    close(fds[0]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    CHECK(lspio_write(fds[1], "{}", 2, NULL, &err) == ST_EIO); /* the reader is gone */
    signal(SIGPIPE, old);
    close(fds[1]);
}

TEST(lspio_out_of_memory)
{
    lspio_t *r;
    st_err_t err = {0};
    const char *b;
    size_t n;

    alloc_fail_after(0);
    CHECK(lspio_new(0) == NULL);
    alloc_fail_after(-1);
    REQUIRE((r = lspio_new(0)) != NULL);
    alloc_fail_after(0);
    CHECK(lspio_feed(r, "Content-Length: 2\r\n\r\n{}", 23, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_EQ_INT(lspio_pending(r), 0); /* nothing kept */
    feed(r, "Content-Length: 2\r\n\r\n{}");
    CHECK(next(r, &b, &n) == LSPIO_MESSAGE);
    lspio_destroy(&r);
}
