/* lsp.h - `strata lsp`: a Language Server Protocol 3.17 server on
 * standard input and output.
 *
 * An editor starts it and talks JSON-RPC over the pipes; the server checks
 * open buffers as they change (the per-file checks, on tree-sitter's
 * incremental parse of the buffer) and the workspace's modules across
 * files when a buffer is opened or saved (the run module, with the cache
 * strata check uses). docs/lsp.md says what it supports. */
#ifndef STRATA_CLI_LSP_H
#define STRATA_CLI_LSP_H

/* The command: argv[0] is "lsp", the rest its options (check's, plus
 * --stdio, --max-message-size). Returns the exit status: 0 after shutdown
 * and exit, 1 when the client went away without them, 2 on a usage error. */
int lsp_main(int argc, char **argv);

/* The server on the given descriptors (lsp_main: 0 and 1, after
 * installing its SIGTERM handler); for tests. Returns as lsp_main. */
int lsp_serve(int in_fd, int out_fd, int argc, char **argv);

/* The usage text, static. */
const char *lsp_usage(void);

#endif
