/* whole_hint.c - the whole-run key an invocation used last (see
 * whole_hint.h). The file is one line: the magic, a space, the key in
 * hex, a newline. */
#include "run/whole_hint.h"

#include "common/alloc.h"
#include "common/file.h"
#include "run/statidx.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define MAGIC "strata-whole-hint-1"
#define LINE_LEN (sizeof MAGIC + DIGEST_HEX_LEN + 1) /* magic, space, hex, newline */

st_rc_t whole_hint_id(const char *const *args, size_t n_args, const char *const *roots,
                      size_t n_roots, digest_t *out)
{
    return statidx_place_id(MAGIC, args, n_args, roots, n_roots, out);
}

/* dir/stat/whole-<hex id> into out; false when it does not fit. */
static bool hint_path(const char *dir, const digest_t *id, char *out, size_t cap)
{
    char hex[DIGEST_HEX_LEN + 1];

    digest_to_hex(id, hex);
    return dir != NULL && snprintf(out, cap, "%s/" STATIDX_DIR "/whole-%s", dir, hex) < (int)cap;
}

bool whole_hint_load(const char *dir, const digest_t *id, digest_t *key)
{
    char path[PATH_MAX];
    uint8_t *data;
    size_t len;
    bool ok;

    if (!hint_path(dir, id, path, sizeof path) || !file_read_all(path, LINE_LEN, &data, &len))
        return false;
    ok = len == LINE_LEN && memcmp(data, MAGIC " ", sizeof MAGIC) == 0 && data[len - 1] == '\n' &&
         digest_from_hex((const char *)data + sizeof MAGIC, DIGEST_HEX_LEN, key) == ST_OK;
    st_free(data);
    return ok;
}

st_rc_t whole_hint_save(const char *dir, const digest_t *id, const digest_t *key, st_err_t *err)
{
    char name[8 + DIGEST_HEX_LEN], line[LINE_LEN + 1], hex[DIGEST_HEX_LEN + 1];

    digest_to_hex(id, hex);
    snprintf(name, sizeof name, "whole-%s", hex);
    digest_to_hex(key, hex);
    snprintf(line, sizeof line, MAGIC " %s\n", hex);
    return statidx_write(dir, name, line, LINE_LEN, err);
}
