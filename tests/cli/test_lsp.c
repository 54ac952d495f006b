/* test_lsp.c - `strata lsp` in this process (lsp_serve on files): the
 * error responses of JSON-RPC and LSP, $/cancelRequest, the exit status,
 * the positions of diagnostics in UTF-16 and UTF-8, and the code actions'
 * text edits. */
#include "cli/lsp.h"
#include "test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Frames each message of msgs (JSON texts, or raw bytes when they start
 * with '!') into one input, runs the server on it, and returns what it
 * wrote as a JSON array of messages; *rc its exit status. */
static json_t *serve(const char *const *msgs, size_t n, int *rc)
{
    FILE *in = tmpfile(), *out = tmpfile();
    char *argv[] = {"lsp", NULL};
    json_t *all = json_array();
    char *data = NULL;
    long size;

    if (in == NULL || out == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (msgs[i][0] == '!')
            fputs(msgs[i] + 1, in);
        else
            fprintf(in, "Content-Length: %zu\r\n\r\n%s", strlen(msgs[i]), msgs[i]);
    }
    fflush(in);
    rewind(in);
    *rc = lsp_serve(fileno(in), fileno(out), 1, argv);
    if ((size = lseek(fileno(out), 0, SEEK_END)) <= 0 || (data = malloc((size_t)size + 1)) == NULL)
        goto done;
    if (pread(fileno(out), data, (size_t)size, 0) != size)
        goto done;
    data[size] = '\0';
    for (char *p = data; (p = strstr(p, "Content-Length: ")) != NULL;) {
        size_t len = strtoul(p + 16, &p, 10);
        p = strstr(p, "\r\n\r\n") + 4;
        json_array_append_new(all, json_loadb(p, len, 0, NULL));
        p += len;
    }
done:
    free(data);
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
    return all;
}

/* The message answering id (borrowed from all), or NULL. */
static json_t *answer(json_t *all, int id)
{
    size_t i;
    json_t *m;

    json_array_foreach(all, i, m) if (json_integer_value(json_object_get(m, "id")) == id &&
                                      json_object_get(m, "method") == NULL) return m;
    return NULL;
}

static int error_code(const json_t *m)
{
    return (int)json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

/* How many messages are errors with the given code and a null id. */
static size_t null_errors(json_t *all, int code)
{
    size_t i, k = 0;
    json_t *m;

    json_array_foreach(all, i,
                       m) if (json_is_null(json_object_get(m, "id")) && error_code(m) == code) k++;
    return k;
}

#define INIT(id, enc)                                                                              \
    "{\"jsonrpc\":\"2.0\",\"id\":" #id                                                             \
    ",\"method\":\"initialize\",\"params\":{\"processId\":null,"                                   \
    "\"capabilities\":{\"general\":{\"positionEncodings\":[" enc "]}}}}"
#define NOTE(method, params) "{\"jsonrpc\":\"2.0\",\"method\":\"" method "\",\"params\":" params "}"
#define REQ(id, method, params)                                                                    \
    "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" method "\",\"params\":" params "}"

TEST(lsp_error_responses)
{
    const char *const msgs[] = {
        REQ(1, "shutdown", "null"),         /* before initialize */
        NOTE("textDocument/didOpen", "{}"), /* dropped before initialize */
        INIT(2, "\"utf-16\""),
        INIT(3, "\"utf-16\""), /* twice */
        "{bad json",
        "[1,2]",                                            /* not an object */
        "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}", /* id of the wrong type */
        "{\"jsonrpc\":\"2.0\",\"id\":4}",                   /* no method */
        REQ(5, "no/such", "{}"),
        NOTE("no/such", "{}"),                   /* ignored */
        REQ(6, "textDocument/codeAction", "3"),  /* params of the wrong type */
        REQ(7, "textDocument/diagnostic", "{}"), /* no uri */
        "!Content-Type: text\r\n\r\n",           /* no Content-Length */
        REQ(8, "textDocument/diagnostic", "{\"textDocument\":{\"uri\":\"file:///nope.py\"}}"),
        NOTE("$/cancelRequest", "{\"id\":8}"), /* read ahead: 8 is cancelled */
        REQ("\"s\"", "shutdown", "null"),
        REQ(9, "shutdown", "null"), /* after shutdown */
        NOTE("exit", "null"),
    };
    int rc = -1;
    json_t *all = serve(msgs, sizeof msgs / sizeof msgs[0], &rc);

    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(error_code(answer(all, 1)), -32002);
    CHECK(
        json_is_object(json_object_get(json_object_get(answer(all, 2), "result"), "capabilities")));
    CHECK_STREQ(json_string_value(json_object_get(
                    json_object_get(json_object_get(answer(all, 2), "result"), "capabilities"),
                    "positionEncoding")),
                "utf-16");
    CHECK_EQ_INT(error_code(answer(all, 3)), -32600);
    CHECK_EQ_INT(null_errors(all, -32700), 2); /* bad JSON, bad header */
    CHECK_EQ_INT(null_errors(all, -32600), 2); /* the array, the id of the wrong type */
    CHECK_EQ_INT(error_code(answer(all, 4)), -32600);
    CHECK_EQ_INT(error_code(answer(all, 5)), -32601);
    CHECK_EQ_INT(error_code(answer(all, 6)), -32602);
    CHECK_EQ_INT(error_code(answer(all, 7)), -32602);
    CHECK_EQ_INT(error_code(answer(all, 8)), -32800);
    CHECK_EQ_INT(error_code(answer(all, 9)), -32600);
    json_decref(all);
}

TEST(lsp_exit_without_shutdown)
{
    const char *const a[] = {INIT(1, ""), NOTE("exit", "null")};
    const char *const b[] = {INIT(1, "")};                            /* EOF */
    const char *const c[] = {"!Content-Length: 100000000\r\n\r\n{}"}; /* oversized, EOF */
    int rc = -1;
    json_t *all;

    json_decref(serve(a, 2, &rc));
    CHECK_EQ_INT(rc, 1);
    json_decref(serve(b, 1, &rc));
    CHECK_EQ_INT(rc, 1);
    all = serve(c, 1, &rc);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(null_errors(all, -32600), 1);
    json_decref(all);
}

#define OPEN(text)                                                                                 \
    NOTE("textDocument/didOpen", "{\"textDocument\":{\"uri\":\"file:///t/m.py\",\"languageId\":"   \
                                 "\"python\",\"version\":1,\"text\":\"" text "\"}}")

/* The first publishDiagnostics' first diagnostic's range's start or end
 * (which) character. */
static long first_pos(json_t *all, const char *which)
{
    size_t i;
    json_t *m;

    json_array_foreach(all, i, m)
    {
        json_t *d = json_array_get(json_object_get(json_object_get(m, "params"), "diagnostics"), 0);
        if (d != NULL)
            return (long)json_integer_value(
                json_object_get(json_object_get(json_object_get(d, "range"), which), "character"));
    }
    return -1;
}

TEST(lsp_positions_in_both_encodings)
{
    const char *const u16[] = {INIT(1, "\"utf-16\""),
                               OPEN("s = '\\u00e9\\ud83d\\ude00'; import os\\n")};
    const char *const u8[] = {INIT(1, "\"utf-8\", \"utf-16\""),
                              OPEN("s = '\\u00e9\\ud83d\\ude00'; import os\\n")};
    int rc;
    json_t *all = serve(u16, 2, &rc);

    CHECK_EQ_INT(first_pos(all, "start"), 11); /* s = 'é😀'; : 5 + 1 + 2 + 3 */
    json_decref(all);
    all = serve(u8, 2, &rc);
    CHECK_STREQ(json_string_value(json_object_get(
                    json_object_get(json_object_get(answer(all, 1), "result"), "capabilities"),
                    "positionEncoding")),
                "utf-8");
    CHECK_EQ_INT(first_pos(all, "start"), 14); /* 5 + 2 + 4 + 3 bytes */
    json_decref(all);
}

TEST(lsp_unused_import_range_ends_at_its_name)
{
    const char *const from[] = {INIT(1, "\"utf-8\""), OPEN("from os import path, sep\\nsep\\n")};
    const char *const alias[] = {INIT(1, "\"utf-8\""), OPEN("import os.path as p\\n")};
    int rc;
    json_t *all = serve(from, 2, &rc);

    CHECK_EQ_INT(first_pos(all, "start"), 0); /* the statement, as strata check says */
    CHECK_EQ_INT(first_pos(all, "end"), 19);  /* to the end of `path` */
    json_decref(all);
    all = serve(alias, 2, &rc);
    CHECK_EQ_INT(first_pos(all, "end"), 19); /* to the end of the alias `p` */
    json_decref(all);
}

/* The newText of the edits of the action whose title starts with t. */
static const char *action_text(json_t *acts, const char *t, size_t k)
{
    size_t i;
    json_t *a;

    json_array_foreach(acts, i, a)
    {
        const char *title = json_string_value(json_object_get(a, "title"));
        if (title != NULL && strncmp(title, t, strlen(t)) == 0) {
            json_t *e = json_array_get(
                json_object_get(json_object_get(json_object_get(a, "edit"), "changes"),
                                "file:///t/m.py"),
                k);
            return json_string_value(json_object_get(e, "newText"));
        }
    }
    return NULL;
}

#define ACTIONS(id, line)                                                                          \
    REQ(id, "textDocument/codeAction",                                                             \
        "{\"textDocument\":{\"uri\":\"file:///t/m.py\"},\"range\":{\"start\":{\"line\":" #line     \
        ",\"character\":0},\"end\":{\"line\":" #line ",\"character\":0}},\"context\":{"            \
        "\"diagnostics\":[]}}")

TEST(lsp_code_actions)
{
    const char *const msgs[] = {
        INIT(1, ""),
        OPEN("import os, sys\\nfrom a import (b,\\n  c as d)\\nimport json  # noqa: F811\\n"
             "def f():\\n    import re\\nprint(sys, b)\\n"),
        ACTIONS(2, 0),
        ACTIONS(3, 1),
        ACTIONS(4, 3),
        ACTIONS(5, 5),
        REQ(6, "textDocument/codeAction",
            "{\"textDocument\":{\"uri\":\"file:///t/m.py\"},\"range\":{\"start\":{\"line\":0,"
            "\"character\":0},\"end\":{\"line\":0,\"character\":0}},\"context\":{\"diagnostics\":"
            "[],\"only\":[\"source.fixAll\"]}}"),
    };
    int rc;
    json_t *all = serve(msgs, sizeof msgs / sizeof msgs[0], &rc);
    json_t *r;

    r = json_object_get(answer(all, 2), "result");
    CHECK_STREQ(action_text(r, "Remove unused import", 0), "sys");
    CHECK_STREQ(action_text(r, "Ignore F401", 0), "  # noqa: F401");
    r = json_object_get(answer(all, 3), "result");
    CHECK_STREQ(action_text(r, "Remove unused import", 0), "b");
    CHECK_STREQ(action_text(r, "Ignore F401", 0), "  # noqa: F401");
    r = json_object_get(answer(all, 4), "result");
    CHECK_STREQ(action_text(r, "Remove unused import", 0), ""); /* the line */
    CHECK_STREQ(action_text(r, "Ignore F401", 0), ", F401");    /* added to the comment */
    r = json_object_get(answer(all, 5), "result");
    CHECK_STREQ(action_text(r, "Remove unused import", 0), "pass"); /* a block's only statement */
    r = json_object_get(answer(all, 6), "result");
    CHECK_EQ_INT(json_array_size(r), 1);
    CHECK_STREQ(action_text(r, "Fix all", 0), "sys");
    CHECK_STREQ(action_text(r, "Fix all", 1), "b");
    CHECK_STREQ(action_text(r, "Fix all", 2), "");
    CHECK_STREQ(action_text(r, "Fix all", 3), "pass");
    json_decref(all);
}

TEST(lsp_fix_all_leaves_an_import_of_too_many_names)
{
    /* `from m import (n0, ..., n299)` with n299 used: past the names an
     * action handles, nothing may be removed (n299 would go) */
    static char text[8192], open_msg[9000];
    size_t at = 0;
    int rc;

    at += (size_t)snprintf(text + at, sizeof text - at, "from m import (");
    for (int i = 0; i < 300; i++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%sn%d", i ? ", " : "", i);
    snprintf(text + at, sizeof text - at, ")\\nprint(n299)\\n");
    snprintf(open_msg, sizeof open_msg, "%s", OPEN("%s"));
    char buf[9000];
    snprintf(buf, sizeof buf, open_msg, text);
    const char *const msgs[] = {
        INIT(1, ""),
        buf,
        REQ(2, "textDocument/codeAction",
            "{\"textDocument\":{\"uri\":\"file:///t/m.py\"},\"range\":{\"start\":{\"line\":0,"
            "\"character\":0},\"end\":{\"line\":0,\"character\":0}},\"context\":{\"diagnostics\":"
            "[],\"only\":[\"source.fixAll\"]}}"),
    };
    json_t *all = serve(msgs, sizeof msgs / sizeof msgs[0], &rc);
    json_t *r = json_object_get(answer(all, 2), "result");

    CHECK(r != NULL);
    CHECK(action_text(r, "Fix all", 0) == NULL); /* no edit of the statement */
    json_decref(all);
}

TEST(lsp_more_messages_than_the_queue)
{
    enum { N = 5000 }; /* past the read-ahead queue's 4096 */
    static const char *msgs[N + 3];
    int rc = -1;
    json_t *all;

    msgs[0] = INIT(1, "");
    for (size_t i = 1; i <= N; i++)
        msgs[i] = NOTE("no/such", "{}");
    msgs[N + 1] = REQ(2, "shutdown", "null");
    msgs[N + 2] = NOTE("exit", "null");
    all = serve(msgs, N + 3, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK(answer(all, 2) != NULL);
    json_decref(all);
}

TEST(lsp_code_actions_after_the_tree_was_dropped)
{
    enum { N = 40 }; /* more documents than LSP_MAX_TREES keep trees */
    static char bufs[N][256];
    static const char *msgs[N + 2];
    int rc;
    json_t *all;

    msgs[0] = INIT(1, "");
    for (int i = 0; i < N; i++) {
        snprintf(bufs[i], sizeof bufs[i],
                 NOTE("textDocument/didOpen",
                      "{\"textDocument\":{\"uri\":\"file:///t/%s%d.py\",\"languageId\":\"python\","
                      "\"version\":1,\"text\":\"import os, sys\\nprint(sys)\\n\"}}"),
                 i == 0 ? "m" : "n", i);
        msgs[1 + i] = bufs[i];
    }
    msgs[1] = OPEN("import os, sys\\nprint(sys)\\n"); /* the first: file:///t/m.py */
    msgs[N + 1] = ACTIONS(2, 0);
    all = serve(msgs, N + 2, &rc);
    CHECK_STREQ(action_text(json_object_get(answer(all, 2), "result"), "Remove unused import", 0),
                "sys");
    json_decref(all);
}
