/* toml.h - TOML documents as values: tables, arrays, strings, numbers,
 * booleans, dates, each with the line and column it was written at.
 *
 * The syntax is tree-sitter's TOML grammar (npm's tree-sitter-toml, the
 * same runtime as the Python parser); this module turns its tree into
 * values and enforces the rules of TOML 1.0 that a grammar cannot: a key
 * defined twice, a table defined twice, a table extended through dotted
 * keys or an inline table, [[array]] against a table or a static array,
 * escapes naming no Unicode scalar value, integers past 64 bits. Every
 * error reads `PATH:LINE:COL: message`, as a configuration file's error
 * should. Dates and times are kept as their text: the configuration has no
 * use for them beyond telling them apart from strings. */
#ifndef STRATA_CLI_TOML_H
#define STRATA_CLI_TOML_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TOML_TABLE,
    TOML_ARRAY,
    TOML_STRING,
    TOML_INTEGER,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME /* offset or local date-time, date or time: str is its text */
} toml_kind_t;

typedef struct toml_value toml_value_t;

/* One key of a table, where it was written (1-based line and column). */
typedef struct {
    const char *key;
    toml_value_t *value;
    uint32_t line, col;
} toml_entry_t;

struct toml_value {
    toml_kind_t kind;
    uint32_t line, col; /* where the value, or the table's first mention, is */
    const char *str;    /* TOML_STRING (decoded, NUL-terminated), TOML_DATETIME */
    size_t len;         /* of str; a string may hold NUL bytes (\u0000) */
    int64_t i;
    double f;
    bool b;
    toml_entry_t *entries; /* TOML_TABLE: in the order written */
    toml_value_t **items;  /* TOML_ARRAY */
    size_t n, cap_;        /* entries or items */
    unsigned flags_;       /* private: how a table or array was made */
};

typedef struct toml_doc toml_doc_t;

/* Parses text[0..len) (a file's contents; path is only for messages).
 * ST_OK: *out is the document, caller frees with toml_destroy.
 * ST_EINVAL: a syntax error or a broken rule; err->msg is
 * "PATH:LINE:COL: message". ST_ENOMEM. *out untouched on error. */
st_rc_t toml_parse(const char *path, const char *text, size_t len, toml_doc_t **out, st_err_t *err);

/* The root table; borrowed, valid until the document is destroyed. */
const toml_value_t *toml_root(const toml_doc_t *doc);

/* The value of key in table (NULL when absent or table is not a table);
 * borrowed from the document. */
const toml_value_t *toml_get(const toml_value_t *table, const char *key);

/* The entry of key in table, for its position; NULL when absent. */
const toml_entry_t *toml_entry(const toml_value_t *table, const char *key);

/* The name of a kind, for messages: "a table", "a string", ... Static. */
const char *toml_kind_name(toml_kind_t kind);

/* Frees the document and every value in it; sets *doc_p NULL; accepts NULL. */
void toml_destroy(toml_doc_t **doc_p);

#endif
