/* test_whole_hint.c - the whole-run hint: saved and loaded per invocation,
 * and a file that is not one of ours is no hint. */
#include "test.h"

#include "run/whole_hint.h"
#include "tests/run/tmpdir.h"

#include <string.h>

/* Writes text over the hint file of id in dir. */
static void overwrite(const char *dir, const digest_t *id, const char *text)
{
    char hex[DIGEST_HEX_LEN + 1], name[128], path[256];

    digest_to_hex(id, hex);
    snprintf(name, sizeof name, "stat/whole-%s", hex);
    tmpdir_write(dir, name, text, path, sizeof path);
}

TEST(whole_hint_saved_and_loaded)
{
    const char *args_a[] = {"src"}, *args_b[] = {"src", "tests"}, *roots[] = {"src"};
    char dir[64], path[256];
    digest_t id_a, id_b, id_r, key = {{1, 2, 3}}, other = {{9}}, got;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    REQUIRE(whole_hint_id(args_a, 1, NULL, 0, &id_a) == ST_OK);
    REQUIRE(whole_hint_id(args_b, 2, NULL, 0, &id_b) == ST_OK);
    REQUIRE(whole_hint_id(args_a, 1, roots, 1, &id_r) == ST_OK);
    CHECK(!digest_eq(&id_a, &id_b));           /* other arguments, other invocation */
    CHECK(!digest_eq(&id_a, &id_r));           /* a root too */
    CHECK(!whole_hint_load(dir, &id_a, &got)); /* none yet */

    REQUIRE(whole_hint_save(dir, &id_a, &key, &err) == ST_OK); /* makes stat/ */
    REQUIRE(whole_hint_load(dir, &id_a, &got));
    CHECK(digest_eq(&got, &key));
    CHECK(!whole_hint_load(dir, &id_b, &got));
    REQUIRE(whole_hint_save(dir, &id_a, &other, &err) == ST_OK); /* replaced */
    REQUIRE(whole_hint_load(dir, &id_a, &got));
    CHECK(digest_eq(&got, &other));

    /* not ours: wrong magic, short, bad hex, more after the line */
    char line[160], hex[DIGEST_HEX_LEN + 1];
    digest_to_hex(&key, hex);
    snprintf(line, sizeof line, "strata-whole-hint-2 %s\n", hex);
    overwrite(dir, &id_a, line);
    CHECK(!whole_hint_load(dir, &id_a, &got));
    overwrite(dir, &id_a, "strata-whole-hint-1 00ff\n");
    CHECK(!whole_hint_load(dir, &id_a, &got));
    snprintf(line, sizeof line, "strata-whole-hint-1 %.63sx\n", hex);
    overwrite(dir, &id_a, line);
    CHECK(!whole_hint_load(dir, &id_a, &got));
    snprintf(line, sizeof line, "strata-whole-hint-1 %s\nmore", hex);
    overwrite(dir, &id_a, line);
    CHECK(!whole_hint_load(dir, &id_a, &got));
    snprintf(line, sizeof line, "strata-whole-hint-1 %s\n", hex);
    overwrite(dir, &id_a, line);
    REQUIRE(whole_hint_load(dir, &id_a, &got));
    CHECK(digest_eq(&got, &key));

    /* a cache directory whose stat/ cannot be made: an error, no crash */
    snprintf(path, sizeof path, "%s/file", dir);
    tmpdir_write(dir, "file", "x", path, sizeof path);
    CHECK(whole_hint_save(path, &id_a, &key, &err) == ST_EIO);
    tmpdir_remove(dir);
}
