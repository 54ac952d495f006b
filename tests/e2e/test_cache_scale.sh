#!/usr/bin/env bash
# test_cache_scale.sh - the cache's write path on a generated repository of
# a few thousand modules (bench/gen_repo.py), where a cold run commits many
# flush windows to its log before merging them at the end.
#
# Checks: the generator's seeded diagnostics are exactly what strata finds;
# a cold run with a fresh cache prints what a --no-cache run prints and
# leaves no log behind; a cold run killed with SIGKILL once its log holds a
# committed window keeps that window (the next run adopts the log: some
# files come from the cache, its output is the cold one, no log is left),
# and the run after it is fully warm; so does a run killed while it merges
# its log into the main database at the end; two checks sharing one fresh
# cache directory at once both print the cold output.
#
# Usage: bash test_cache_scale.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=cache_scale
. "$(dirname "$0")/lib.sh" "$@"

if ! [ -x /usr/bin/python3 ]; then
    echo "skip: needs /usr/bin/python3 for bench/gen_repo.py"
    exit 0
fi

same() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: output differs"; fi
}

# no_logs NAME DIR: passes when DIR holds no cas-log file.
no_logs() {
    local left
    left=$(find "$2" -name 'cas-log-*' | head -3)
    if [ -z "$left" ]; then pass; else fail "$1: logs left: $left"; fi
}

# from_cache ERR: the M of the summary's "(N files checked, M from cache)".
from_cache() {
    printf '%s' "$1" | sed -n 's/.*files checked, \([0-9]*\) from cache.*/\1/p' | tail -1
}

/usr/bin/python3 "$repo/bench/gen_repo.py" gen --modules 4000 >/dev/null || exit 2
out=$(/usr/bin/python3 "$repo/bench/gen_repo.py" gen --verify "$strata")
if [ $? -eq 0 ]; then pass; else fail "generated repository: $out"; fi
cd gen || exit 2
files=$(find . -name '*.py' | wc -l)

run check --no-cache --root . .
cold=$out
cold_rc=$rc

run check --cache-dir "$tmp/fresh" --root . .
same "fresh cache: output = --no-cache" "$cold" "$out"
if [ "$rc" -eq "$cold_rc" ]; then pass; else fail "fresh cache: exit $rc ($err)"; fi
no_logs "fresh cache: merged at close" "$tmp/fresh"
run check --cache-dir "$tmp/fresh" --root . .
has "fresh cache: then warm" "$err" "($files files checked, $files from cache)"

# --- kill -9 once the log holds a committed window -------------------------------
cache="$tmp/killed"
"$strata" check --cache-dir "$cache" --root . . >/dev/null 2>&1 &
pid=$!
first=0
grown=0
for _ in $(seq 1 600); do
    wal=$(find "$cache" -name 'cas-log-*.sqlite-wal' 2>/dev/null | head -1)
    size=0
    [ -n "$wal" ] && size=$(stat -c %s "$wal" 2>/dev/null || echo 0)
    # a second commit began: the first is whole
    if [ "$first" -eq 0 ] && [ "$size" -gt 0 ]; then first=$size; fi
    if [ "$first" -gt 0 ] && [ "$size" -gt "$first" ]; then grown=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "$grown" -eq 1 ]; then
    run check --cache-dir "$cache" --root . .
    same "after kill -9: output = cold" "$cold" "$out"
    if [ "$rc" -eq "$cold_rc" ]; then pass; else fail "after kill -9: exit $rc ($err)"; fi
    kept=$(from_cache "$err")
    echo "note: the killed run's log kept ${kept:-?} of $files files"
    if [ "${kept:-0}" -gt 0 ]; then pass; else fail "after kill -9: nothing kept ($err)"; fi
    no_logs "after kill -9: the log was adopted" "$cache"
    run check --cache-dir "$cache" --root . .
    has "after kill -9: then warm" "$err" "($files files checked, $files from cache)"
else
    echo "skip: the run ended before its log held two commits"
fi

# --- kill -9 during the merge at the end ------------------------------------------
# The merge writes the main database's WAL (no checkpoint until it ends)
# while the log still exists: killed then, the log is adopted whole by the
# next run, which merges again what was merged already.
cache="$tmp/merging"
"$strata" check --cache-dir "$cache" --root . . >/dev/null 2>&1 &
pid=$!
hit=0
for _ in $(seq 1 6000); do
    wal=$(stat -c %s "$cache/cas.sqlite-wal" 2>/dev/null || echo 0)
    log=$(find "$cache" -name 'cas-log-*.sqlite' 2>/dev/null | head -1)
    if [ -n "$log" ] && [ "$wal" -gt 1048576 ]; then hit=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.002
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
if [ "$hit" -eq 1 ]; then
    run check --cache-dir "$cache" --root . .
    same "killed merging: output = cold" "$cold" "$out"
    if [ "$rc" -eq "$cold_rc" ]; then pass; else fail "killed merging: exit $rc ($err)"; fi
    kept=$(from_cache "$err")
    echo "note: the run killed while merging kept ${kept:-?} of $files files"
    if [ "${kept:-0}" -gt 0 ]; then pass; else fail "killed merging: nothing kept ($err)"; fi
    no_logs "killed merging: the log was adopted" "$cache"
    run check --cache-dir "$cache" --root . .
    has "killed merging: then warm" "$err" "($files files checked, $files from cache)"
else
    echo "skip: the run ended before the merge was seen"
fi

# --- two checks at once on one fresh cache ---------------------------------------
cache="$tmp/shared"
"$strata" check --cache-dir "$cache" --root . . >"$tmp/a.out" 2>"$tmp/a.err" &
a=$!
"$strata" check --cache-dir "$cache" --root . . >"$tmp/b.out" 2>"$tmp/b.err"
b_rc=$?
wait "$a"
a_rc=$?
same "concurrent: first output = cold" "$cold" "$(cat "$tmp/a.out")"
same "concurrent: second output = cold" "$cold" "$(cat "$tmp/b.out")"
if [ "$a_rc" -eq "$cold_rc" ] && [ "$b_rc" -eq "$cold_rc" ]; then pass; else
    fail "concurrent: exits $a_rc and $b_rc"
fi
no_logs "concurrent: both merged" "$cache"
run check --cache-dir "$cache" --root . .
same "concurrent: then warm output = cold" "$cold" "$out"
has "concurrent: then warm" "$err" "($files files checked, $files from cache)"

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
