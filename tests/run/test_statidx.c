/* test_statidx.c - the stat index: an entry is trusted only for the very
 * stamp it was saved with; recent changes are not trusted; a file that
 * does not decode (garbage, truncated, a path twice, a FIFO under its name)
 * is an empty index; a save keeps the other entries still right and drops
 * the ones whose file changed or is gone. The run's use of it (a re-check
 * reads nothing) is in test_run.c and the e2e tests. */
#include "test.h"

#include "common/buf.h"
#include "common/digest.h"
#include "common/mpbuf.h"
#include "run/statidx.h"
#include "tests/run/tmpdir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[64];

static digest_t digest_of(const char *text)
{
    digest_t d;
    (void)digest_sha256(text, strlen(text), &d);
    return d;
}

/* A file's stamp now. */
static file_stamp_t stamp_of(const char *path)
{
    struct stat st;
    file_stamp_t s = {0};
    if (stat(path, &st) == 0)
        file_stamp_of(&st, &s);
    return s;
}

/* The index file's path for id. */
static void index_path(const digest_t *id, char *out, size_t cap)
{
    char hex[DIGEST_HEX_LEN + 1];
    digest_to_hex(id, hex);
    snprintf(out, cap, "%s/" STATIDX_DIR "/%s", dir, hex);
}

TEST(statidx_round_trip_and_exact_stamp)
{
    char a[128], b[128];
    digest_t id = digest_of("project"), got;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    tmpdir_write(dir, "a.py", "import os\n", a, sizeof a);
    tmpdir_write(dir, "b.py", "x = 1\n", b, sizeof b);
    statidx_entry_t e[2] = {{.path = a, .stamp = stamp_of(a), .content = digest_of("import os\n")},
                            {.path = b, .stamp = stamp_of(b), .content = digest_of("x = 1\n")}};
    REQUIRE(statidx_save(dir, &id, e, 2, NULL, &err) == ST_OK);

    statidx_t *idx = statidx_load(dir, &id);
    REQUIRE(idx != NULL);
    CHECK_EQ_INT(statidx_count(idx), 2);
    CHECK(statidx_find(idx, a, &e[0].stamp, &got) && digest_eq(&got, &e[0].content));
    CHECK(statidx_find(idx, b, &e[1].stamp, &got) && digest_eq(&got, &e[1].content));
    /* any field that differs is a miss */
    file_stamp_t s = e[0].stamp;
    s.size++;
    CHECK(!statidx_find(idx, a, &s, &got));
    s = e[0].stamp;
    s.mtime_ns++;
    CHECK(!statidx_find(idx, a, &s, &got));
    s = e[0].stamp;
    s.ctime_ns++;
    CHECK(!statidx_find(idx, a, &s, &got));
    s = e[0].stamp;
    s.ino++;
    CHECK(!statidx_find(idx, a, &s, &got));
    s = e[0].stamp;
    s.dev++;
    CHECK(!statidx_find(idx, a, &s, &got));
    /* an unknown stamp or path never matches */
    file_stamp_t zero = {0};
    CHECK(!statidx_find(idx, a, &zero, &got));
    CHECK(!statidx_find(idx, "nowhere.py", &e[0].stamp, &got));
    statidx_destroy(&idx);
    CHECK(idx == NULL);

    /* another project has its own index */
    digest_t other = digest_of("other");
    REQUIRE((idx = statidx_load(dir, &other)) != NULL);
    CHECK_EQ_INT(statidx_count(idx), 0);
    statidx_destroy(&idx);
    tmpdir_remove(dir);
}

TEST(statidx_racy_stamps_are_not_trusted)
{
    file_stamp_t s = {.size = 3, .mtime_ns = 10000000000ull, .ctime_ns = 10000000000ull, .ino = 7};
    file_stamp_t zero = {0};

    CHECK(file_stamp_trusted(&s, 10000000000ull + STATIDX_RACY_NS));
    CHECK(!file_stamp_trusted(&s, 10000000000ull + STATIDX_RACY_NS - 1));
    s.ctime_ns += 1; /* a change (chmod, a write that kept the mtime) counts too */
    CHECK(!file_stamp_trusted(&s, 10000000000ull + STATIDX_RACY_NS));
    CHECK(!file_stamp_trusted(&zero, UINT64_MAX));
}

/* Writes bytes as the index file of id. */
static void plant(const digest_t *id, const void *bytes, size_t len)
{
    char path[PATH_MAX], sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/" STATIDX_DIR, dir);
    (void)mkdir(sub, 0755);
    index_path(id, path, sizeof path);
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(bytes, 1, len, f);
        fclose(f);
    }
}

TEST(statidx_bad_files_are_empty_indexes)
{
    char a[128], path[PATH_MAX];
    digest_t id = digest_of("project");
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    tmpdir_write(dir, "a.py", "pass\n", a, sizeof a);
    statidx_entry_t e = {.path = a, .stamp = stamp_of(a), .content = digest_of("pass\n")};
    REQUIRE(statidx_save(dir, &id, &e, 1, NULL, &err) == ST_OK);
    index_path(&id, path, sizeof path);

    /* every truncation of a good file */
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    uint8_t good[4096];
    size_t len = fread(good, 1, sizeof good, f);
    fclose(f);
    REQUIRE(len > 0 && len < sizeof good);
    for (size_t cut = 0; cut < len; cut++) {
        plant(&id, good, cut);
        statidx_t *idx = statidx_load(dir, &id);
        REQUIRE(idx != NULL);
        CHECK_EQ_INT(statidx_count(idx), 0);
        statidx_destroy(&idx);
    }
    /* every byte flipped (the checksum's too) */
    for (size_t k = 0; k < len; k++) {
        uint8_t bad[4096];
        memcpy(bad, good, len);
        bad[k] ^= 0x5a;
        plant(&id, bad, len);
        statidx_t *idx = statidx_load(dir, &id);
        REQUIRE(idx != NULL);
        CHECK_EQ_INT(statidx_count(idx), 0);
        statidx_destroy(&idx);
    }
    /* the good bytes still load */
    plant(&id, good, len);
    {
        statidx_t *idx = statidx_load(dir, &id);
        REQUIRE(idx != NULL);
        CHECK_EQ_INT(statidx_count(idx), 1);
        statidx_destroy(&idx);
    }
    /* a path twice */
    {
        statidx_entry_t two[2] = {e, e};
        two[1].content = digest_of("other");
        REQUIRE(statidx_save(dir, &id, two, 2, NULL, &err) == ST_OK);
        statidx_t *idx = statidx_load(dir, &id);
        digest_t got;
        REQUIRE(idx != NULL);
        /* saved once (the last entry of a path given twice) */
        CHECK_EQ_INT(statidx_count(idx), 1);
        CHECK(statidx_find(idx, a, &e.stamp, &got) && digest_eq(&got, &two[1].content));
        statidx_destroy(&idx);
    }
    /* a FIFO planted under the name: not opened for a blocking read */
    unlink(path);
    REQUIRE(mkfifo(path, 0644) == 0);
    statidx_t *idx = statidx_load(dir, &id);
    REQUIRE(idx != NULL);
    CHECK_EQ_INT(statidx_count(idx), 0);
    statidx_destroy(&idx);
    /* and a save replaces it */
    CHECK(statidx_save(dir, &id, &e, 1, NULL, &err) == ST_OK);
    REQUIRE((idx = statidx_load(dir, &id)) != NULL);
    CHECK_EQ_INT(statidx_count(idx), 1);
    statidx_destroy(&idx);
    tmpdir_remove(dir);
}

/* An index file of the given entries in the given order, as a writer
 * other than statidx_save might leave it: planted for id. */
static void plant_entries(const digest_t *id, const statidx_entry_t *e, size_t n)
{
    buf_t b;
    mpbuf_t w;
    uint8_t le[8];

    buf_init(&b);
    mpbuf_init(&w, &b);
    msgpack_pack_array(&w.pk, 3);
    mpbuf_cstr(&w.pk, "strata-statidx");
    msgpack_pack_uint32(&w.pk, 1);
    msgpack_pack_array(&w.pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(&w.pk, 7);
        mpbuf_cstr(&w.pk, e[i].path);
        msgpack_pack_uint64(&w.pk, e[i].stamp.size);
        msgpack_pack_uint64(&w.pk, e[i].stamp.mtime_ns);
        msgpack_pack_uint64(&w.pk, e[i].stamp.ctime_ns);
        msgpack_pack_uint64(&w.pk, e[i].stamp.ino);
        msgpack_pack_uint64(&w.pk, e[i].stamp.dev);
        mpbuf_bin(&w.pk, e[i].content.b, sizeof e[i].content.b);
    }
    uint64_t sum = XXH3_64bits(b.data, b.len);
    for (unsigned k = 0; k < 8; k++)
        le[k] = (uint8_t)(sum >> (8 * k));
    (void)buf_append(&b, le, sizeof le);
    plant(id, b.data, b.len);
    buf_free(&b);
}

TEST(statidx_unsorted_files_load_and_a_path_twice_does_not)
{
    char a[128], b[128], c[128];
    digest_t id = digest_of("project"), got;

    REQUIRE(tmpdir_make(dir));
    tmpdir_write(dir, "a.py", "a = 1\n", a, sizeof a);
    tmpdir_write(dir, "b.py", "b = 1\n", b, sizeof b);
    tmpdir_write(dir, "c.py", "c = 1\n", c, sizeof c);
    statidx_entry_t e[4] = {{.path = c, .stamp = stamp_of(c), .content = digest_of("c = 1\n")},
                            {.path = a, .stamp = stamp_of(a), .content = digest_of("a = 1\n")},
                            {.path = b, .stamp = stamp_of(b), .content = digest_of("b = 1\n")},
                            {.path = a, .stamp = stamp_of(a), .content = digest_of("other")}};
    /* out of order: found all the same */
    plant_entries(&id, e, 3);
    statidx_t *idx = statidx_load(dir, &id);
    REQUIRE(idx != NULL);
    CHECK_EQ_INT(statidx_count(idx), 3);
    for (int i = 0; i < 3; i++)
        CHECK(statidx_find(idx, e[i].path, &e[i].stamp, &got) && digest_eq(&got, &e[i].content));
    CHECK(!statidx_find(idx, "nope.py", &e[0].stamp, &got));
    statidx_destroy(&idx);
    /* a path twice (not next to each other): not an index of ours */
    plant_entries(&id, e, 4);
    REQUIRE((idx = statidx_load(dir, &id)) != NULL);
    CHECK_EQ_INT(statidx_count(idx), 0);
    statidx_destroy(&idx);
    tmpdir_remove(dir);
}

TEST(statidx_save_keeps_the_entries_still_right)
{
    char a[128], b[128], c[128];
    digest_t id = digest_of("project"), got;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    tmpdir_write(dir, "a.py", "a = 1\n", a, sizeof a);
    tmpdir_write(dir, "b.py", "b = 1\n", b, sizeof b);
    tmpdir_write(dir, "c.py", "c = 1\n", c, sizeof c);
    statidx_entry_t e[3] = {{.path = a, .stamp = stamp_of(a), .content = digest_of("a = 1\n")},
                            {.path = b, .stamp = stamp_of(b), .content = digest_of("b = 1\n")},
                            {.path = c, .stamp = stamp_of(c), .content = digest_of("c = 1\n")}};
    REQUIRE(statidx_save(dir, &id, e, 3, NULL, &err) == ST_OK);
    statidx_t *old = statidx_load(dir, &id);
    REQUIRE(old != NULL && statidx_count(old) == 3);

    /* b is rewritten (another inode), c is gone; a run saves only a new d */
    tmpdir_write(dir, "b.py", "b = 22\n", b, sizeof b);
    unlink(c);
    char d[128];
    tmpdir_write(dir, "d.py", "d = 1\n", d, sizeof d);
    statidx_entry_t nd = {.path = d, .stamp = stamp_of(d), .content = digest_of("d = 1\n")};
    REQUIRE(statidx_save(dir, &id, &nd, 1, old, &err) == ST_OK);
    statidx_destroy(&old);

    statidx_t *idx = statidx_load(dir, &id);
    REQUIRE(idx != NULL);
    CHECK_EQ_INT(statidx_count(idx), 2); /* d, and a (unchanged) */
    CHECK(statidx_find(idx, a, &e[0].stamp, &got) && digest_eq(&got, &e[0].content));
    CHECK(statidx_find(idx, d, &nd.stamp, &got) && digest_eq(&got, &nd.content));
    CHECK(!statidx_find(idx, b, &e[1].stamp, &got));
    CHECK(!statidx_find(idx, c, &e[2].stamp, &got));
    statidx_destroy(&idx);
    tmpdir_remove(dir);
}

TEST(statidx_project_id_depends_on_roots)
{
    const char *r1[] = {"src"}, *r2[] = {"lib"};
    digest_t a, b, c;

    REQUIRE(statidx_project_id(r1, 1, &a) == ST_OK);
    REQUIRE(statidx_project_id(r2, 1, &b) == ST_OK);
    REQUIRE(statidx_project_id(r1, 1, &c) == ST_OK);
    CHECK(!digest_eq(&a, &b));
    CHECK(digest_eq(&a, &c));
}

TEST(statidx_clear_removes_ours_only)
{
    char sub[128], path[256], hex[DIGEST_HEX_LEN + 1], name[128];
    digest_t id = digest_of("project");
    st_err_t err = {0};
    size_t removed = 9;
    struct stat st;

    REQUIRE(tmpdir_make(dir));
    CHECK(statidx_clear(dir, &removed, &err) == ST_OK && removed == 0); /* no stat/ */
    snprintf(sub, sizeof sub, "%s/" STATIDX_DIR, dir);
    REQUIRE(mkdir(sub, 0755) == 0);
    digest_to_hex(&id, hex);
    snprintf(name, sizeof name, STATIDX_DIR "/%s", hex); /* an index */
    tmpdir_write(dir, name, "x", path, sizeof path);
    snprintf(name, sizeof name, STATIDX_DIR "/whole-%s", hex); /* a hint */
    tmpdir_write(dir, name, "x", path, sizeof path);
    snprintf(name, sizeof name, STATIDX_DIR "/%s.Ab12Cd", hex); /* a cut-short write */
    tmpdir_write(dir, name, "x", path, sizeof path);
    tmpdir_write(dir, STATIDX_DIR "/notes.txt", "kept", path, sizeof path);
    tmpdir_write(dir, STATIDX_DIR "/WHOLE-x", "kept", path, sizeof path);
    REQUIRE(statidx_clear(dir, &removed, &err) == ST_OK);
    CHECK_EQ_INT(removed, 3);
    snprintf(path, sizeof path, "%s/notes.txt", sub);
    CHECK(stat(path, &st) == 0);

    /* a directory under an index's name cannot be removed: an error */
    snprintf(path, sizeof path, "%s/%s", sub, hex);
    REQUIRE(mkdir(path, 0755) == 0);
    CHECK(statidx_clear(dir, &removed, &err) == ST_EIO);
    CHECK(strstr(err.msg, STATIDX_DIR) != NULL);
    rmdir(path);
    tmpdir_remove(dir);
}
