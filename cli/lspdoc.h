/* lspdoc.h - an editor's buffer as the language server keeps it, and the
 * positions the Language Server Protocol speaks in.
 *
 * LSP names a place by line and character, the character counted in the
 * encoding the client and server agreed on (UTF-16 code units unless the
 * client offers UTF-8); the scan reports lines and byte columns. This module
 * converts both ways and applies didChange's edits to the text, saying
 * what changed in bytes and rows so that the document's tree can be told
 * (ts_tree_edit) and parsed again incrementally. Everything the client
 * sends is untrusted: a position past a line's end or the text's end is
 * clamped to it (LSP's rule), one inside a surrogate pair or a UTF-8
 * sequence moves to the start of its character, and a text over the
 * buffer's limit is refused. Lines end at "\n", "\r\n" or "\r", as LSP
 * says. Not thread-safe; one buffer per document. */
#ifndef STRATA_CLI_LSPDOC_H
#define STRATA_CLI_LSPDOC_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LSPDOC_UTF16 = 0, /* LSP's default: UTF-16 code units */
    LSPDOC_UTF8 = 1   /* bytes, when the client offers "utf-8" */
} lspdoc_enc_t;

/* A position as LSP sends it (both 0-based). */
typedef struct {
    uint32_t line;
    uint32_t character;
} lspdoc_pos_t;

/* A place in a text as tree-sitter counts it: rows split at "\n" only,
 * columns in bytes. */
typedef struct {
    uint32_t row;
    uint32_t column;
} lspdoc_point_t;

/* What one change did, in the old and new text's bytes (ts_tree_edit's
 * fields). */
typedef struct {
    uint32_t start_byte, old_end_byte, new_end_byte;
    lspdoc_point_t start_point, old_end_point, new_end_point;
} lspdoc_edit_t;

/* The text of an open document; owned (lspdoc_free). */
typedef struct {
    char *text; /* NUL-terminated, len bytes (may hold NULs itself) */
    size_t len;
    size_t cap;
} lspdoc_t;

/* The largest buffer kept (the offsets are 32-bit, and the scan refuses
 * more than 16 MB anyway). */
#define LSPDOC_MAX_BYTES ((size_t)256 << 20)

/* The byte offset of pos in text[0..len), clamped as said above. Pure. */
size_t lspdoc_offset(const char *text, size_t len, lspdoc_enc_t enc, lspdoc_pos_t pos);

/* The position of byte offset off (clamped to len, moved back to the
 * start of its character) in text[0..len). Pure. */
lspdoc_pos_t lspdoc_position(const char *text, size_t len, lspdoc_enc_t enc, size_t off);

/* The tree-sitter point of byte offset off (off <= len). Pure. */
lspdoc_point_t lspdoc_point(const char *text, size_t len, size_t off);

/* The characters of line text[start..end) up to byte col (a byte column
 * as the scan reports, 0-based) in enc: for diagnostics out. Pure. */
uint32_t lspdoc_units(const char *line, size_t n, lspdoc_enc_t enc, size_t col);

/* Replaces the whole text by s[0..n) (copied). ST_ELIMIT past
 * LSPDOC_MAX_BYTES, ST_ENOMEM; the buffer is unchanged on error. */
st_rc_t lspdoc_set(lspdoc_t *d, const char *s, size_t n, st_err_t *err);

/* Replaces the range [from, to) (positions as the client sent them, in
 * enc; to before from is taken as from) by s[0..n). *edit (may be NULL)
 * says what changed. ST_ELIMIT when the text would pass
 * LSPDOC_MAX_BYTES, ST_ENOMEM; the buffer is unchanged on error. */
st_rc_t lspdoc_apply(lspdoc_t *d, lspdoc_enc_t enc, lspdoc_pos_t from, lspdoc_pos_t to,
                     const char *s, size_t n, lspdoc_edit_t *edit, st_err_t *err);

/* Frees the text and zeroes d; accepts a zeroed one. */
void lspdoc_free(lspdoc_t *d);

#endif
