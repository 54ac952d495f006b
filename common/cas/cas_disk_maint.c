/* cas_disk_maint.c - maintenance of the SQLite tier: LRU eviction, verify,
 * clear and statistics.
 *
 * Kept apart from cas_disk.c only for size: these run on the store's one
 * connection under its lock, and begin by moving whatever the store holds
 * (pending records, its log) into the main table, so that they see and act
 * on every entry. Eviction also runs inside cas_disk.c's writes when a
 * budget is set. */
#include "common/cas/cas_disk_int.h"

#include "common/alloc.h"
#include "common/cas/cas_record.h"

#include <string.h>

/* Keys of the least recently used entries to drop to reach max_bytes. */
static int pick_victims(cas_disk_t *self, uint64_t total, uint64_t max_bytes, cas_disk_rec_t **out,
                        size_t *count)
{
    sqlite3_stmt *st;
    cas_disk_rec_t *v = NULL, *grown;
    size_t n = 0, cap = 0;
    span_t k;
    int rc = sqlite3_prepare_v2(self->db, "SELECT ns, digest, size FROM cas ORDER BY atime", -1,
                                &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    while (total > max_bytes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            if ((grown = st_realloc(v, cap * sizeof *v)) == NULL)
                break;
            v = grown;
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].ns = (cas_ns_t)sqlite3_column_int(st, 0);
        k = cas_disk__column(st, 1);
        if (k.len == sizeof v[n].key.b)
            memcpy(v[n].key.b, k.ptr, sizeof v[n].key.b);
        total -= (uint64_t)sqlite3_column_int64(st, 2) > total
                     ? total
                     : (uint64_t)sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_finalize(st);
    *out = v;
    *count = n;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

st_rc_t cas_disk__gc_locked(cas_disk_t *self, uint64_t max_bytes, uint64_t *removed)
{
    cas_disk_rec_t *v = NULL;
    size_t n = 0;
    uint64_t total = 0, resets = self->resets;
    int rc;

    *removed = 0;
    if ((rc = cas_disk__read_bytes(self, &total)) != SQLITE_OK ||
        (rc = pick_victims(self, total, max_bytes, &v, &n)) != SQLITE_OK ||
        (rc = cas_disk__exec(self, "BEGIN IMMEDIATE")) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < n && self->enabled && self->resets == resets; i++)
        cas_disk__delete(self, v[i].ns, &v[i].key);
    if (!self->enabled || self->resets != resets) {
        st_free(v);
        return ST_EIO;
    }
    if ((rc = cas_disk__exec(self, "COMMIT")) != SQLITE_OK)
        goto fail;
    st_free(v);
    *removed = n;
    self->evictions += n;
    cas_disk__read_bytes(self, &self->bytes_est);
    return ST_OK;
fail:
    st_free(v);
    if (self->db != NULL) {
        cas_disk__exec(self, "ROLLBACK");
        cas_disk__on_error(self, rc, "gc");
    }
    return ST_EIO;
}

st_rc_t cas_disk_gc(cas_disk_t *self, uint64_t max_bytes, uint64_t *removed)
{
    st_rc_t rc = ST_OK;

    *removed = 0;
    pthread_mutex_lock(&self->lock);
    cas_disk__end_read_txn(self);
    cas_disk__flush_all(self, false);
    cas_disk__apply_touches(self);
    if (self->enabled)
        rc = cas_disk__gc_locked(self, max_bytes, removed);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static void count_rows(cas_disk_t *self, uint64_t *rows)
{
    sqlite3_stmt *st;

    if (sqlite3_prepare_v2(self->db, "SELECT count(*) FROM cas", -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW)
        *rows = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
}

/* SQLite's own check; false when it finds the file damaged. */
static bool integrity_ok(cas_disk_t *self)
{
    sqlite3_stmt *st;
    bool ok;
    int rc = sqlite3_prepare_v2(self->db, "PRAGMA integrity_check", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return !cas_disk__is_corrupt(rc);
    rc = sqlite3_step(st);
    ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (rc != SQLITE_ROW && !cas_disk__is_corrupt(rc))
        ok = true; /* busy or I/O: not a verdict on the file */
    sqlite3_finalize(st);
    return ok;
}

/* Reads every row, collecting the keys of those that do not decode; *stale
 * counts those among them that are records of another format version. */
static int scan_entries(cas_disk_t *self, uint64_t *checked, cas_disk_rec_t **bad, size_t *nbad,
                        size_t *stale)
{
    sqlite3_stmt *st;
    arena_t *a = arena_new(0);
    cas_disk_rec_t *v = NULL, *grown;
    size_t n = 0, cap = 0;
    int rc = a ? sqlite3_prepare_v2(self->db, "SELECT ns, digest, value, raw_size FROM cas", -1,
                                    &st, NULL)
               : SQLITE_NOMEM;

    if (rc != SQLITE_OK) {
        arena_destroy(&a);
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        digest_t key = {{0}};
        cas_ns_t ns = (cas_ns_t)sqlite3_column_int(st, 0);
        span_t val, k = cas_disk__column(st, 1), rec;
        bool key_ok = k.len == sizeof key.b;
        st_rc_t drc = ST_ECORRUPT;
        if (key_ok)
            memcpy(key.b, k.ptr, sizeof key.b);
        rec = cas_disk__column(st, 2);
        (*checked)++;
        if (key_ok && (ns == CAS_BLOBS || ns == CAS_RESULTS) &&
            (drc = cas_record_decode(self->dctx, (int)ns, &key, rec.ptr, rec.len, a, &val, NULL)) ==
                ST_OK &&
            (uint64_t)sqlite3_column_int64(st, 3) == val.len) {
            arena_reset(a);
            continue;
        }
        arena_reset(a);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            if ((grown = st_realloc(v, cap * sizeof *v)) == NULL)
                break;
            v = grown;
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].ns = ns;
        v[n].key = key;
        n++;
        *stale += drc == ST_ENOENT;
    }
    sqlite3_finalize(st);
    arena_destroy(&a);
    *bad = v;
    *nbad = n;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

st_rc_t cas_disk_verify(cas_disk_t *self, uint64_t *checked, uint64_t *removed)
{
    cas_disk_rec_t *bad = NULL;
    size_t nbad = 0, stale = 0;
    int rc;

    *checked = *removed = 0;
    pthread_mutex_lock(&self->lock);
    cas_disk__end_read_txn(self);
    cas_disk__flush_all(self, false);
    if (self->enabled && !integrity_ok(self)) {
        uint64_t rows = 0;
        count_rows(self, &rows); /* best effort: the file is damaged */
        cas_disk__reset_db(self, "integrity check");
        *removed = rows > 0 ? rows : 1;
    }
    if (self->enabled && (rc = scan_entries(self, checked, &bad, &nbad, &stale)) != SQLITE_OK)
        cas_disk__on_error(self, rc, "verify");
    for (size_t i = 0; i < nbad && self->enabled; i++)
        cas_disk__delete(self, bad[i].ns, &bad[i].key);
    if (self->enabled && nbad > 0)
        cas_disk__exec(self, "DELETE FROM cas WHERE length(digest) != 32 OR ns NOT IN (0, 1)");
    self->corruptions += nbad - stale; /* stale records are not damage */
    *removed += nbad;
    st_free(bad);
    pthread_mutex_unlock(&self->lock);
    return ST_OK;
}

st_rc_t cas_disk_clear(cas_disk_t *self)
{
    int rc;

    pthread_mutex_lock(&self->lock);
    cas_disk__end_read_txn(self);
    cas_disk__free_pending(self);
    if (self->log != NULL)
        cas_log_clear(self->log);
    self->ntouches = 0;
    if (self->enabled && (rc = cas_disk__exec(self, "DELETE FROM cas")) != SQLITE_OK)
        cas_disk__on_error(self, rc, "clear");
    self->bytes_est = 0;
    pthread_mutex_unlock(&self->lock);
    return ST_OK;
}

void cas_disk_stats(cas_disk_t *self, cas_stats_t *out, bool totals)
{
    sqlite3_stmt *st;

    pthread_mutex_lock(&self->lock);
    if (totals)
        cas_disk__end_read_txn(self); /* count what is committed now */
    out->disk.hits = self->hits;
    out->disk.misses = self->misses;
    out->disk.evictions = self->evictions;
    out->disk_reads = self->reads;
    out->corruptions = self->corruptions;
    out->databases_reset = self->resets;
    out->disk_enabled = self->enabled;
    if (totals && self->enabled &&
        sqlite3_prepare_v2(self->db,
                           "SELECT count(*), COALESCE(SUM(size), 0) "
                           "FROM cas",
                           -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            out->disk.entries = (uint64_t)sqlite3_column_int64(st, 0);
            out->disk.bytes = (uint64_t)sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
    out->disk.entries += self->npending + (self->log != NULL ? cas_log_count(self->log) : 0);
    pthread_mutex_unlock(&self->lock);
}
