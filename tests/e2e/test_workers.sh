#!/usr/bin/env bash
# test_workers.sh - `strata check` with its scans in worker processes.
#
# The single-host default sends the scans that the cache cannot answer to
# worker processes on this host (`strata worker`, spawned over ipc://) when
# there is enough to scan. Checked here: the output is byte-identical to
# --no-workers (in-process), with and without the cache; a job that kills
# its worker (a poison pill: the worker's STRATA_TEST_CRASH_ON test hook)
# is retried, then reported as an internal-error E902 on its file while
# every other file is checked as usual, and the crashed workers are
# restarted (for a scan job and for a check job, which run there too); a worker killed with SIGKILL in the middle of a run is
# restarted and the output is still identical; no worker process and no
# socket directory is left behind, even when strata check is killed.
#
# Usage: bash test_workers.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
set -u

E2E_NAME=workers
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"
export TMPDIR="$tmp"
ulimit -c 0 # the poison pill aborts workers: no core files

expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}

leftovers() {
    local n
    n=$(pgrep -f "strata worker --connect ipc://$tmp/" | wc -l)
    expect_eq "$1: no worker process left" "$n" 0
    n=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'strata-*' -type d | wc -l)
    expect_eq "$1: no socket directory left" "$n" 0
}

# A project large enough for worker processes (over 512 KiB to scan).
mkdir -p proj/pkg
: >proj/pkg/__init__.py
for i in $(seq 1 80); do
    {
        echo "import os"
        echo "from pkg import helper_$((i % 7))"
        for j in $(seq 1 150); do
            echo "def f_${i}_$j(a, b=1):"
            echo "    unused_$j = a + b"
            echo "    return os.path.join(str(a), str(b))"
        done
    } >"proj/pkg/m$i.py"
done
for k in 0 1 2 3 4 5 6; do
    echo "def helper_$k(x):" >>proj/pkg/__init__.py
    echo "    return x" >>proj/pkg/__init__.py
done

run check --no-cache --no-workers proj
ref=$out
expect_eq "in-process: exit" "$rc" 1
run check --no-cache proj
expect_eq "workers: exit" "$rc" 1
expect_eq "workers, no cache: same output as in-process" "$out" "$ref"
leftovers "no cache"
run check proj
expect_eq "workers, cold cache: same output" "$out" "$ref"
run check proj
expect_eq "warm cache: same output" "$out" "$ref"
leftovers "cache"

# A poison pill: every worker that takes this file's job aborts.
cp proj/pkg/m1.py proj/pkg/poison.py
echo "# STRATA_POISON_PILL_7f3a" >>proj/pkg/poison.py
run check --no-cache --no-workers proj
ref_poison=$out
STRATA_TEST_CRASH_ON=STRATA_POISON_PILL_7f3a run check --no-cache proj
expect_eq "poison: exit" "$rc" 1
if printf '%s\n' "$out" | grep -q "^proj/pkg/poison.py:1:1: E902 internal error"; then pass; else
    fail "poison: no internal-error E902 on the poisoned file: $(printf '%s\n' "$out" | grep poison | head -3)"
fi
others=$(printf '%s\n' "$out" | grep -v "^proj/pkg/poison.py:")
want=$(printf '%s\n' "$ref_poison" | grep -v "^proj/pkg/poison.py:")
expect_eq "poison: every other file checked as usual" "$others" "$want"
if printf '%s' "$err" | grep -q "restarted"; then pass; else
    fail "poison: the crashed worker was not restarted: $err"
fi
leftovers "poison"
rm proj/pkg/poison.py

# The check jobs run in the workers too: one that kills its worker (the
# module's name appears only in check inputs, never in a scan's) gets an
# internal-error E902 on its file; every other file is checked as usual.
mkdir -p proj/other # a namespace package nothing imports: only the module's own job names it
printf 'import os\n' >proj/other/checkpoison_zz.py
run check --no-cache --no-workers proj
ref_check=$out
STRATA_TEST_CRASH_ON=checkpoison_zz run check --no-cache proj
if printf '%s\n' "$out" | grep -q "^proj/other/checkpoison_zz.py:1:1: E902 internal error"; then
    pass
else
    fail "check poison: no internal-error E902: $(printf '%s\n' "$out" | grep checkpoison | head -3)"
fi
others=$(printf '%s\n' "$out" | grep -v "^proj/other/checkpoison_zz.py:")
want=$(printf '%s\n' "$ref_check" | grep -v "^proj/other/checkpoison_zz.py:")
expect_eq "check poison: every other file checked as usual" "$others" "$want"
leftovers "check poison"
rm -r proj/other

# A worker killed with SIGKILL in the middle of a run.
std=/usr/lib/python3.11
if [ -d "$std/email" ] && [ -d "$std/asyncio" ]; then
    run check --no-cache --no-workers --root "$std" "$std/email" "$std/asyncio" "$std/json" \
        "$std/logging" "$std/unittest" "$std/xml"
    ref=$out
    (
        for _ in $(seq 1 200); do
            pid=$(pgrep -f "strata worker --connect ipc://$tmp/" | head -1)
            if [ -n "$pid" ]; then
                sleep 0.05
                kill -9 "$pid" 2>/dev/null
                break
            fi
            sleep 0.01
        done
    ) &
    killer=$!
    run check --no-cache --root "$std" "$std/email" "$std/asyncio" "$std/json" "$std/logging" \
        "$std/unittest" "$std/xml"
    wait "$killer"
    expect_eq "kill -9 of a worker: same output" "$out" "$ref"
    leftovers "kill -9"
else
    echo "skipped the kill -9 case: no $std/email" >&2
fi

# strata check itself killed (SIGKILL: nothing runs in it; SIGTERM: its
# handler): its worker processes end with it, and its private socket
# directory does not outlive them (the workers remove it after a SIGKILL).
for sig in KILL TERM; do
    "$strata" check -q --no-cache proj >/dev/null 2>&1 &
    checker=$!
    for _ in $(seq 1 300); do
        pgrep -f "strata worker --connect ipc://$tmp/" >/dev/null && break
        sleep 0.01
    done
    n=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'strata-*' -type d | wc -l)
    expect_eq "check killed ($sig): a socket directory while it runs" "$n" 1
    kill -"$sig" "$checker" 2>/dev/null
    wait "$checker" 2>/dev/null
    for _ in $(seq 1 100); do
        pgrep -f "strata worker --connect ipc://$tmp/" >/dev/null || break
        sleep 0.05
    done
    n=$(pgrep -f "strata worker --connect ipc://$tmp/" | wc -l)
    expect_eq "check killed ($sig): its workers ended" "$n" 0
    n=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'strata-*' | wc -l)
    expect_eq "check killed ($sig): no socket directory left" "$n" 0
    rm -rf "$tmp"/strata-* # the next case starts clean even if this one failed
done

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
