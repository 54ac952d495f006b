/* cas_test.h - helpers shared by the CAS tests: temporary directories,
 * deterministic keys and values, opening a store. */
#ifndef STRATA_TEST_CAS_TEST_H
#define STRATA_TEST_CAS_TEST_H

#include "common/cas/cas.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int cas_test_rm_one(const char *path, const struct stat *sb, int flag,
                                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it. */
static inline void cas_test_rmdir(const char *dir)
{
    nftw(dir, cas_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /tmp in buf (at least 64 bytes); NULL on failure. */
static inline char *cas_test_tmpdir(char *buf)
{
    strcpy(buf, "/tmp/strata-cas-XXXXXX");
    return mkdtemp(buf);
}

/* The result key of i. */
static inline digest_t cas_test_key(long i)
{
    digest_t k;
    char s[32];
    int n = snprintf(s, sizeof s, "key-%ld", i);
    digest_sha256(s, (size_t)n, &k);
    return k;
}

/* The value of i: len(i) bytes, compressible for even i, not for odd. */
static inline size_t cas_test_value(long i, uint8_t *buf, size_t cap)
{
    size_t len = (size_t)(i * 37 % 1500) + 1;
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL + 1;
    if (len > cap)
        len = cap;
    for (size_t j = 0; j < len; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[j] = i % 2 == 0 ? (uint8_t)('a' + j % 7 + i % 3) : (uint8_t)x;
    }
    return len;
}

/* True when v is exactly the value of i. */
static inline int cas_test_value_ok(long i, span_t v)
{
    uint8_t buf[2048];
    size_t len = cas_test_value(i, buf, sizeof buf);
    return v.len == len && memcmp(v.ptr, buf, len) == 0;
}

static inline cas_t *cas_test_open_touch(const char *dir, cas_durability_t mode, uint32_t touch_ms)
{
    cas_opts_t o;
    cas_t *c = NULL;
    cas_opts_default(&o);
    o.dir = dir;
    o.durability = mode;
    o.flush_ms = 20;
    o.touch_ms = touch_ms;
    if (cas_open(&o, &c, NULL) != ST_OK)
        return NULL;
    return c;
}

static inline cas_t *cas_test_open(const char *dir, cas_durability_t mode)
{
    return cas_test_open_touch(dir, mode, 0);
}

/* A buffered store committing every flush_writes puts (and otherwise only
 * after a minute), with a memory tier of mem_budget bytes. */
static inline cas_t *cas_test_open_window(const char *dir, uint32_t flush_writes, size_t mem_budget)
{
    cas_opts_t o;
    cas_t *c = NULL;
    cas_opts_default(&o);
    o.dir = dir;
    o.durability = CAS_BUFFERED;
    o.flush_ms = 60000;
    o.flush_writes = flush_writes;
    o.mem_budget = mem_budget;
    if (cas_open(&o, &c, NULL) != ST_OK)
        return NULL;
    return c;
}

static inline st_rc_t cas_test_put(cas_t *c, long i, bool durable)
{
    uint8_t buf[2048];
    size_t len = cas_test_value(i, buf, sizeof buf);
    digest_t k = cas_test_key(i);
    return cas_put(c, CAS_RESULTS, &k, buf, len, durable, NULL);
}

/* ST_OK only with the right value; ST_ECORRUPT when a wrong one came back. */
static inline st_rc_t cas_test_get(cas_t *c, long i, arena_t *a)
{
    digest_t k = cas_test_key(i);
    span_t v;
    st_rc_t rc = cas_get(c, CAS_RESULTS, &k, a, &v, NULL);
    if (rc == ST_OK && !cas_test_value_ok(i, v))
        return ST_ECORRUPT;
    return rc;
}

#endif
