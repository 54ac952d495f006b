#!/usr/bin/env bash
# test_cache.sh - end-to-end tests of the scan cache in `strata check` and of
# `strata cache`.
#
# The cache may only ever save time: every run here compares its output
# with a cold run's (--no-cache), byte for byte, and the summary line's
# "(N files checked, M from cache)" says how many scans were skipped. Covers
# warm runs, a one-file edit, moved and copied files, --no-cache,
# --cache-dir and $STRATA_CACHE_DIR, durability modes, a cache that cannot
# be created, the cache commands and their bad arguments, random bytes
# flipped in and truncations of the database and its WAL, and kill -9 of a
# check in the middle of a run on the standard library.
#
# Everything lives under a mktemp directory with STRATA_CACHE_DIR pointing
# into it, so nothing lands in the repository.
#
# Usage: bash test_cache.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=cache
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"

expect_rc() {
    if [ "$rc" -eq "$2" ]; then pass; else fail "$1: exit $rc, want $2 (stderr: $err)"; fi
}

lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: unexpected '$3' in: $2"; else pass; fi
}

same() {
    if [ "$2" == "$3" ]; then pass; else
        fail "$1: outputs differ"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -10 >&2
    fi
}

# --- a small project ---------------------------------------------------------

mkdir -p proj/pkg/sub
printf 'import os\n' >proj/pkg/a.py
printf 'def f():\n    y = 1\n    return undefined_name\n' >proj/pkg/b.py
printf 'import sys\nprint(sys.argv)\n' >proj/pkg/sub/c.py
printf 'import os\n' >proj/pkg/stub.pyi
printf 'from . import a\n' >proj/pkg/__init__.py
printf 'x = 1\n' >proj/clean.py
for m in json email; do
    if [ -d "/usr/lib/python3.11/$m" ]; then cp -r "/usr/lib/python3.11/$m" "proj/$m"; fi
done
find proj -name __pycache__ -prune -exec rm -rf {} +
nfiles=$(find proj -name '*.py' -o -name '*.pyi' | wc -l)

run check --no-cache proj
cold=$out
cold_rc=$rc
expect_rc "cold run" 1
has "no-cache summary has no cache count" "$err" "($nfiles files checked)"
if [ -e "$STRATA_CACHE_DIR" ]; then fail "--no-cache created the cache"; else pass; fi

run check proj
same "first cached run = cold" "$cold" "$out"
expect_rc "first cached run" "$cold_rc"
has "first run: nothing from cache" "$err" "($nfiles files checked, 0 from cache)"
if [ -d "$STRATA_CACHE_DIR" ]; then pass; else fail "no cache directory at \$STRATA_CACHE_DIR"; fi

run check proj
same "warm run = cold" "$cold" "$out"
expect_rc "warm run" "$cold_rc"
has "warm run scans nothing" "$err" "($nfiles files checked, $nfiles from cache)"

run check --format json proj
run check --format json --no-cache proj
json_cold=$out
run check --format json proj
same "warm json = cold json" "$json_cold" "$out"

# --select/--ignore filter at report time: same cache entries.
run check --select F401 --no-cache proj
sel_cold=$out
run check --select F401 proj
same "warm with --select = cold" "$sel_cold" "$out"
has "--select does not change keys" "$err" "$nfiles from cache)"

# --max-file-size is part of the key.
run check --max-file-size 100000000 proj
has "--max-file-size changes keys" "$err" " 0 from cache)"
same "other --max-file-size, same output" "$cold" "$out"

# A one-file edit rescans exactly that file.
printf 'import os\nimport re\n' >proj/pkg/a.py
run check --no-cache proj
edit_cold=$out
run check proj
same "after an edit = cold" "$edit_cold" "$out"
has "one edit, one scan" "$err" "($nfiles files checked, $((nfiles - 1)) from cache)"

# A copied file and a moved file are hits; the report shows their paths.
cp proj/pkg/b.py proj/pkg/b_copy.py
mv proj/pkg/sub/c.py proj/pkg/sub/moved.py
run check --no-cache proj
moved_cold=$out
run check proj
same "copy and move = cold" "$moved_cold" "$out"
has "copy and move are hits" "$err" "($((nfiles + 1)) files checked, $((nfiles + 1)) from cache)"
has "copy reported under its path" "$out" "proj/pkg/b_copy.py:3:12: F821"

# Same bytes as a stub or package __init__: another kind, another key.
mkdir -p kinds
printf 'import os\nimport re\n' >kinds/__init__.py
run check kinds/__init__.py
has "__init__ kind is another key" "$err" "(1 file checked, 0 from cache)"

# --cache-dir wins over $STRATA_CACHE_DIR; without either, ./.strata-cache.
run check --cache-dir "$tmp/other" proj/clean.py
has "--cache-dir cold" "$err" "(1 file checked, 0 from cache)"
if [ -d "$tmp/other" ]; then pass; else fail "--cache-dir not created"; fi
run check --cache-dir="$tmp/other" proj/clean.py
has "--cache-dir warm" "$err" "(1 file checked, 1 from cache)"
mkdir -p cwd && (cd cwd && env -u STRATA_CACHE_DIR "$strata" check ../proj/clean.py \
    >/dev/null 2>&1)
if [ -d cwd/.strata-cache ]; then pass; else fail "no default .strata-cache in the cwd"; fi

# Durability: memory keeps nothing; strict persists.
run check --durability memory --cache-dir "$tmp/mem" proj
same "memory mode = cold" "$moved_cold" "$out"
if [ -e "$tmp/mem" ]; then fail "memory mode wrote to disk"; else pass; fi
run check --durability strict --cache-dir "$tmp/strict" proj
same "strict mode = cold" "$moved_cold" "$out"
run check --durability strict --cache-dir "$tmp/strict" proj
has "strict mode warm" "$err" "$((nfiles + 1)) from cache)"
run check --durability fast proj
expect_rc "bad --durability" 2
has "bad --durability message" "$err" "invalid value 'fast' for --durability"

# A cache that cannot be created: a warning, the same output and status.
printf 'not a directory\n' >afile
run check --cache-dir "$tmp/afile/cache" proj
same "unusable cache = cold" "$moved_cold" "$out"
expect_rc "unusable cache keeps the status" "$cold_rc"
has "unusable cache warns" "$err" "afile/cache"

# --- strata cache -----------------------------------------------------------

run cache stats
expect_rc "cache stats" 0
has "stats names the cache" "$out" "cache: $STRATA_CACHE_DIR"
has "stats has entries" "$out" "entries:"
has "stats has hit rate" "$out" "hit rate:"
has "stats has disk reads" "$out" "disk reads:"
has "stats has evictions" "$out" "evictions:"
has "stats has corruptions" "$out" "corruptions:"
lacks "stats: disk tier not empty" "$(printf '%s\n' "$out" | sed -n '/disk tier/,/entries/p')" \
    "entries:     0"
run cache verify
expect_rc "cache verify" 0
has "verify reports" "$out" "entries checked, 0 corrupt removed"
run cache gc --max-size 1G
expect_rc "gc 1G" 0
has "gc 1G evicts nothing" "$out" "0 entries evicted"
run check proj
has "after gc 1G still warm" "$err" "$((nfiles + 1)) from cache)"
run cache gc --max-size=0
expect_rc "gc 0" 0
run check proj
same "after gc 0 = cold" "$moved_cold" "$out"
lacks "after gc 0 not all cached" "$err" "$((nfiles + 1)) from cache)"
run check proj
ls "$STRATA_CACHE_DIR"/stat/* >/dev/null 2>&1 && pass || fail "no stat index or whole-run hint to clear"
printf 'kept\n' >"$STRATA_CACHE_DIR/stat/notes.txt"
run cache clear
expect_rc "cache clear" 0
left=$(ls "$STRATA_CACHE_DIR/stat")
if [ "$left" = notes.txt ]; then pass; else fail "cache clear left in stat/: $left"; fi
run check proj
has "after clear nothing cached" "$err" " 0 from cache)"
same "after clear = cold" "$moved_cold" "$out"
run cache stats --cache-dir "$tmp/never"
expect_rc "stats of a missing cache" 0
if [ -e "$tmp/never" ]; then fail "stats created a cache"; else pass; fi
run cache --help
expect_rc "cache --help" 0
has "cache --help" "$out" "usage: strata cache"
run help cache
has "help cache" "$out" "usage: strata cache"

bad_cache() { # name, expected message, args...
    local name=$1 want=$2
    shift 2
    run cache "$@"
    expect_rc "$name" 2
    has "$name message" "$err" "$want"
}
bad_cache "no action" "missing action"
bad_cache "unknown action" "unknown action 'purge'" purge
bad_cache "gc without size" "gc needs --max-size" gc
bad_cache "gc bad size" "invalid value '12Q' for --max-size" gc --max-size 12Q
bad_cache "gc negative size" "invalid value '-1' for --max-size" gc --max-size -1
bad_cache "gc size missing" "option '--max-size' needs a value" gc --max-size
bad_cache "size on stats" "--max-size is for gc only" stats --max-size 1M
bad_cache "unknown option" "unknown option '--all'" clear --all
bad_cache "stray argument" "unexpected argument 'x'" verify x
bad_cache "empty cache dir" "'--cache-dir' needs a directory" stats --cache-dir=

# --- corruption ---------------------------------------------------------------

# flip FILE N: overwrites N random bytes of FILE with random values.
flip() {
    local file=$1 n=$2 size i off
    size=$(stat -c %s "$file")
    [ "$size" -gt 0 ] || return 0
    for ((i = 0; i < n; i++)); do
        off=$(((RANDOM * 32768 + RANDOM) % size))
        head -c 1 /dev/urandom | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
    done
}

# check_after NAME: a check after damage gives the cold output, no crash.
check_after() {
    run check proj
    same "$1: output = cold" "$moved_cold" "$out"
    if [ "$rc" -eq "$cold_rc" ]; then pass; else fail "$1: exit $rc (stderr: $err)"; fi
    run check proj # and the run after it, on whatever the first one rebuilt
    same "$1: next output = cold" "$moved_cold" "$out"
}

export STRATA_CACHE_DIR="$tmp/corrupt"
run check proj
cp -r "$STRATA_CACHE_DIR" "$tmp/good"
db=$(find "$tmp/good" -maxdepth 1 -type f -name '*.sqlite' | head -1)
if [ -n "$db" ]; then pass; else fail "no *.sqlite database in the cache"; fi
db=$(basename "${db:-cas.sqlite}")
restore() {
    rm -rf "$STRATA_CACHE_DIR"
    cp -r "$tmp/good" "$STRATA_CACHE_DIR"
}
for n in 1 4 16 64 256 1024; do
    restore
    flip "$STRATA_CACHE_DIR/$db" "$n"
    check_after "$n random bytes in the database"
done
for frac in 0 1 2 5 9; do
    restore
    size=$(stat -c %s "$STRATA_CACHE_DIR/$db")
    truncate -s $((size * frac / 10)) "$STRATA_CACHE_DIR/$db"
    check_after "database truncated to $frac/10"
done
restore
printf 'garbage' >"$STRATA_CACHE_DIR/$db"
check_after "database replaced by garbage"
run cache verify
expect_rc "verify after corruption" 0

# --- kill -9 mid-run ------------------------------------------------------------

# A big corpus so that the kill lands in the middle: the standard library.
corpus=()
if [ -d /usr/lib/python3.11 ]; then
    mapfile -t corpus < <(bash "$repo/bench/stdlib_files.sh" 2>/dev/null)
fi
if [ "${#corpus[@]}" -lt 100 ]; then
    echo "skip: kill -9 tests need /usr/lib/python3.11"
else
    run check --no-cache "${corpus[@]}"
    big_cold=$out
    big_rc=$rc
    for mode in buffered strict; do
        export STRATA_CACHE_DIR="$tmp/killed-$mode"
        for delay in 0.3 0.8; do
            "$strata" check --durability "$mode" "${corpus[@]}" >/dev/null 2>&1 &
            pid=$!
            sleep "$delay"
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        done
        wal=$(find "$STRATA_CACHE_DIR" -name '*-wal' | head -1)
        run check --durability "$mode" "${corpus[@]}"
        same "$mode: after kill -9, output = cold" "$big_cold" "$out"
        if [ "$rc" -eq "$big_rc" ]; then pass; else fail "$mode after kill: exit $rc ($err)"; fi
        if [ -n "$wal" ]; then echo "note: $mode kill left a WAL"; fi
        run check --durability "$mode" "${corpus[@]}"
        has "$mode: warm after recovery" "$err" "(${#corpus[@]} files checked, ${#corpus[@]} from cache)"
    done
    # Damage a WAL left by a kill: flipped bytes, then truncation.
    export STRATA_CACHE_DIR="$tmp/walcheck"
    for damage in flip truncate; do
        rm -rf "$STRATA_CACHE_DIR"
        "$strata" check "${corpus[@]}" >/dev/null 2>&1 &
        pid=$!
        sleep 0.8
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        wal=$(find "$STRATA_CACHE_DIR" -name '*-wal' -size +0 | head -1)
        if [ -z "$wal" ]; then
            echo "note: no WAL left by the kill; damaging the database instead"
            wal=$(find "$STRATA_CACHE_DIR" -name '*.sqlite' | head -1)
        fi
        if [ -n "$wal" ]; then
            if [ "$damage" = flip ]; then flip "$wal" 64; else
                truncate -s $(($(stat -c %s "$wal") / 3)) "$wal"
            fi
        fi
        run check "${corpus[@]}"
        same "WAL $damage: output = cold" "$big_cold" "$out"
        if [ "$rc" -eq "$big_rc" ]; then pass; else fail "WAL $damage: exit $rc ($err)"; fi
    done
fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
