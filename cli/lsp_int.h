/* lsp_int.h - what the files of `strata lsp` share (cli/lsp.c the
 * protocol and the documents, cli/lspcheck.c the checks, cli/lspfix.c
 * the code actions). Not for other modules: cli/lsp.h is the entry. */
#ifndef STRATA_CLI_LSP_INT_H
#define STRATA_CLI_LSP_INT_H

#include "cli/config.h"
#include "cli/files.h"
#include "cli/lspdoc.h"
#include "cli/lspio.h"
#include "cli/options.h"
#include "cli/prep.h"
#include "common/arena.h"
#include "worker/python/scan.h"

#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <tree_sitter/api.h>

/* One diagnostic as the scan and the report give it (line and col
 * 1-based, col in bytes); strings owned by the list. */
typedef struct {
    uint32_t line, col;
    char *code;
    char *message;
} lsp_diag_t;

typedef struct {
    lsp_diag_t *items;
    size_t n;
} lsp_diags_t;

/* An open document. */
typedef struct {
    char *uri;
    char *path; /* the file's absolute path (NULL: not a file: URI) */
    int64_t version;
    lspdoc_t buf;
    TSTree *tree; /* the last parse of buf (NULL: none to reuse) */
    scan_kind_t kind;
    lsp_diags_t local; /* the scan's of buf, rules applied */
    lsp_diags_t xmod;  /* the last whole check's, besides the scan's */
    /* the scan's that the last whole check dropped (F405 of a star import
     * it resolved, ...): left out of local by code and message */
    lsp_diags_t dropped;
    bool reported;    /* the report of the last whole check had it */
    uint64_t touched; /* when it was last scanned (lsp_t.tick) */
    bool in_project;  /* among the walked files at the last whole check */
} lsp_doc_t;

typedef struct {
    int in_fd, out_fd;
    lspio_t *io;
    volatile sig_atomic_t *stop;
    const atomic_bool *cancel; /* set with *stop: a check stops soon */
    bool initialized, shutdown, exit_now;
    int exit_code;
    lspdoc_enc_t enc;
    long parent_pid;
    bool progress_ok;   /* the client takes window/workDoneProgress */
    bool watch_dynamic; /* ... and registers file watchers for us */
    int64_t next_id;    /* of the requests this server sends */
    /* the command line after `lsp` (check's options), borrowed */
    int argc;
    char **argv;
    const char *docs_url;
    /* the workspace: folders (absolute paths, owned) */
    char **folders;
    size_t n_folders;
    /* the settings of a check of the folders (cli/options.h, cli/config.h) */
    bool set_up;
    char **check_argv; /* owned: what cfg was parsed from */
    cli_check_t cfg;
    config_set_t *conf;
    prep_t prep;
    bool prep_ok;
    cli_files_t files;
    bool files_ok; /* the walk is current */
    bool indexed;  /* the first whole check was done */
    /* a whole check asked for while messages waited: run once they are
     * handled (a burst of opens or saves costs one) */
    bool check_pending;
    const char *check_why;
    uint64_t tick; /* scans so far: which documents keep their trees */
    scan_opts_t scan_opts;
    scanner_t *scanner;
    arena_t *arena; /* per scan, reset */
    lsp_doc_t **docs;
    size_t n_docs;
    /* closed files given diagnostics by the last whole check: their walk
     * names, sorted, and a hash of what each was given */
    char **pub_paths;
    uint64_t *pub_hashes;
    size_t n_pub;
    /* messages read and not handled yet */
    json_t **queue;
    size_t q_head, q_len, q_cap;
} lsp_t;

/* Where codeDescription.href points (the code, lower case, after '#');
 * $STRATA_DOCS_URL replaces it. */
/* Documents that keep their parse tree between changes (the most
 * recently changed): a tree costs 10 to 60 bytes per byte of source, and
 * the others are parsed whole at their next change. */
#define LSP_MAX_TREES 32

#define LSP_DOCS_URL "https://github.com/OWNER/strata/blob/main/docs/checks.md"

/* Frees the list's strings and zeroes it. */
void lsp__diags_free(lsp_diags_t *d);

/* Sends a notification (steals params). */
void lsp__notify(lsp_t *s, const char *method, json_t *params);
/* Sends a request of the server's (its own next id); the answer is read
 * and dropped. */
void lsp__request(lsp_t *s, const char *method, json_t *params);

/* Publishes doc's diagnostics (local and xmod). */
void lsp__publish_doc(lsp_t *s, lsp_doc_t *doc);

/* The diagnostics of an LSP array for doc's text (new reference): a's
 * but those of drop's codes and messages (may be NULL), then b's. */
json_t *lsp__diag_array(const lsp_t *s, const char *text, size_t len, const lsp_diags_t *a,
                        const lsp_diags_t *drop, const lsp_diags_t *b);

/* A file: URI for path (malloc'd), and the path of a file: URI
 * (malloc'd; NULL when not a file: URI or malformed). */
char *lsp__uri_of(const char *path);
char *lsp__path_of(const char *uri);

/* cli/lspcheck.c: the per-file scan of doc's buffer (incremental when
 * doc has a tree); doc->local replaced. False on an internal error (logged). */
bool lsp__scan_doc(lsp_t *s, lsp_doc_t *doc);

/* Sets up the check of the folders (cfg, configuration, cache,
 * environment); false when the settings are bad (logged: the server
 * goes on with per-file checks under the defaults). */
bool lsp__setup(lsp_t *s);
void lsp__teardown(lsp_t *s);

/* The whole check: every module of the workspace, the open buffers in
 * place of their files, the cache shared with strata check; publishes
 * what changed. Deferred while more messages wait (lsp__check_flush). */
void lsp__check_all(lsp_t *s, const char *why);

/* The file: URI of the workspace's module named name[0..n) (malloc'd),
 * or NULL when the workspace has no such file. */
char *lsp__module_uri(const lsp_t *s, const char *name, size_t n);

/* Runs the whole check lsp__check_all deferred, if any. */
void lsp__check_flush(lsp_t *s);

/* Whether code is reported at path under the settings. */
bool lsp__enabled(lsp_t *s, const char *path, const char *code);

/* cli/lspfix.c: the code actions for doc at the range (0-based lines
 * first..last) with only (NULL: every kind) as the kinds asked for;
 * a new JSON array. */
json_t *lsp__code_actions(lsp_t *s, lsp_doc_t *doc, uint32_t first, uint32_t last,
                          const json_t *only);

#endif
