/* fuzz_lsp.c - what `strata lsp` reads from its client before anything
 * else: the framing of messages (cli/lspio.h) and didChange's edits with
 * their positions (cli/lspdoc.h). The input is cut in two at its first
 * NUL-free half: the framing part is fed in chunks whose sizes come from
 * the input, under a small body limit; the edit part is a list of edits
 * (two positions as four 32-bit numbers, so lines and characters far out
 * of range, an encoding byte, a length byte, the text). Properties: no
 * crash, a message never longer than the limit and always inside what was
 * fed, memory bounded (pending bytes), and each edit leaving a buffer of
 * the length the edit says, with positions and offsets that convert back
 * to nearby places. */
#include "fuzz.h"

#include "cli/lspdoc.h"
#include "cli/lspio.h"

#include <string.h>

#define MAX_BODY 4096

static void fuzz_framing(const uint8_t *data, size_t size)
{
    lspio_t *r = lspio_new(MAX_BODY);
    st_err_t err = {0};
    size_t i = 0;

    if (r == NULL)
        abort();
    while (i < size) {
        size_t chunk = 1 + data[i] % 97;
        const char *body;
        size_t len;
        lspio_event_t ev;

        if (chunk > size - i)
            chunk = size - i;
        FUZZ_ASSERT(lspio_feed(r, data + i, chunk, &err) == ST_OK);
        i += chunk;
        while ((ev = lspio_next(r, &body, &len)) != LSPIO_NONE)
            if (ev == LSPIO_MESSAGE)
                FUZZ_ASSERT(len <= MAX_BODY);
        FUZZ_ASSERT(lspio_pending(r) <= MAX_BODY + LSPIO_MAX_HEADER + 200);
    }
    lspio_destroy(&r);
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_positions(const lspdoc_t *d, lspdoc_enc_t enc, size_t off)
{
    lspdoc_pos_t p = lspdoc_position(d->text, d->len, enc, off);
    size_t back = lspdoc_offset(d->text, d->len, enc, p);

    if (off > d->len)
        off = d->len;
    FUZZ_ASSERT(back <= off && off - back <= 4);
    lspdoc_point_t pt = lspdoc_point(d->text, d->len, off);
    FUZZ_ASSERT(pt.column <= off);
}

static void fuzz_edits(const uint8_t *data, size_t size)
{
    lspdoc_t d = {0};
    st_err_t err = {0};
    size_t i = 0;

    FUZZ_ASSERT(lspdoc_set(&d, "import os\r\nx = '\xc3\xa9\xf0\x9f\x98\x80'\n\ry\n", 27, &err) ==
                ST_OK);
    while (i + 18 <= size) {
        lspdoc_pos_t a = {u32(data + i), u32(data + i + 4)};
        lspdoc_pos_t b = {u32(data + i + 8), u32(data + i + 12)};
        lspdoc_enc_t enc = data[i + 16] & 1 ? LSPDOC_UTF8 : LSPDOC_UTF16;
        size_t n = data[i + 17];
        size_t before = d.len, from, to;
        lspdoc_edit_t e;

        i += 18;
        if (n > size - i)
            n = size - i;
        /* small numbers are the interesting ones: fold most into the text */
        if (data[i - 2] & 2) {
            a.line %= 8, a.character %= 40, b.line %= 8, b.character %= 40;
        }
        from = lspdoc_offset(d.text, d.len, enc, a);
        to = lspdoc_offset(d.text, d.len, enc, b);
        FUZZ_ASSERT(from <= d.len && to <= d.len);
        if (to < from)
            to = from;
        if (lspdoc_apply(&d, enc, a, b, (const char *)data + i, n, &e, &err) == ST_OK) {
            FUZZ_ASSERT(d.len == before - (to - from) + n);
            FUZZ_ASSERT(e.start_byte == from && e.old_end_byte == to && e.new_end_byte == from + n);
            FUZZ_ASSERT(d.text[d.len] == '\0');
            check_positions(&d, enc, e.new_end_byte);
            check_positions(&d, enc, (size_t)u32(data + i - 18) % (d.len + 2));
        }
        i += n;
    }
    lspdoc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t half = size / 2;

    fuzz_framing(data, half);
    fuzz_edits(data + half, size - half);
    return 0;
}
