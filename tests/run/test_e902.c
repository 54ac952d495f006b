/* test_e902.c - the E902 texts: every cause worded as users and tests see
 * it, details cut at 400 bytes, the buffer never overrun. */
#include "test.h"

#include "run/e902.h"

#include <string.h>

TEST(e902_texts)
{
    char out[E902_MESSAGE_MAX];
    st_err_t err = {.code = ST_EIO, .msg = "No such file or directory"};

    CHECK_STREQ(e902_read_text(out, sizeof out, ST_EIO, &err),
                "cannot read file: No such file or directory");
    snprintf(err.msg, sizeof err.msg, "file too large: 12 bytes (limit 5, see --max-file-size)");
    CHECK_STREQ(e902_read_text(out, sizeof out, ST_ELIMIT, &err),
                "file too large: 12 bytes (limit 5, see --max-file-size)");
    CHECK_STREQ(e902_textf(out, sizeof out, E902_DIRECTORY, "Permission denied"),
                "cannot read directory: Permission denied");
    CHECK_STREQ(e902_textf(out, sizeof out, E902_INTERNAL, "lost"),
                "internal error, file not checked: lost");
    CHECK_STREQ(e902_text(out, sizeof out, E902_NO_BLOB, NULL, 0),
                "internal error, file not checked: its content is not in the coordinator's "
                "cache");
    CHECK_STREQ(e902_textf(out, sizeof out, E902_BAD_RESULT, "bad map"),
                "internal error: a worker's scan result: bad map");
    CHECK_STREQ(e902_textf(out, sizeof out, E902_CHECK_FAILED, "oom"),
                "internal error: cross-module check failed: oom");
    scan_diag_t d = e902_diag(out);
    CHECK_EQ_INT(d.line, 1);
    CHECK_EQ_INT(d.col, 1);
    CHECK_STREQ(d.code, "E902");
}

TEST(e902_long_details_are_cut)
{
    char detail[1000], out[E902_MESSAGE_MAX], small[16];

    memset(detail, 'x', sizeof detail);
    e902_text(out, sizeof out, E902_INTERNAL, detail, sizeof detail);
    CHECK_EQ_INT(strlen(out), strlen("internal error, file not checked: ") + 400);
    e902_text(small, sizeof small, E902_INTERNAL, detail, sizeof detail);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    e902_textf(out, sizeof out, (e902_why_t)99, "?"); /* unknown: internal */
    CHECK_STREQ(out, "internal error, file not checked: ?");
}
