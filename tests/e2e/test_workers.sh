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

# The dispatch cost record (coordinator/hostpool.h) decides whether a run is
# worth worker processes and which check jobs stay in the coordinator. The
# cases below plant one so that the decision does not depend on how fast
# this machine is: "favour" makes workers worth it for any project and
# keeps only check jobs under 1 KiB here (a check costs 1 ms per byte).
mkdir -p "$STRATA_CACHE_DIR"
plant_cost() { # favour | avoid
    local start=0.001 rate=1
    if [ "$1" = avoid ]; then start=600000 rate=1000000000; fi
    printf 'strata-dispatch-cost 1 start_ms=%s rtt_us=0.001 scan_bytes_per_ms=%s check_ns_per_byte=1000000 runs=1\n' \
        "$start" "$rate" >"$STRATA_CACHE_DIR/dispatch-cost"
}

# What this run's worker processes have on their command line: the
# binary's path (strata-test: this test sets its hooks), "worker", and an
# address in $tmp.
workers_cmdline="$(basename "$strata") worker --connect ipc://$tmp/"

leftovers() {
    local n
    n=$(pgrep -f "$workers_cmdline" | wc -l)
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
plant_cost favour
run check --no-cache --explain proj
expect_eq "workers: exit" "$rc" 1
expect_eq "workers, no cache: same output as in-process" "$out" "$ref"
if printf '%s' "$err" | grep -q "^explain: worker processes used" &&
    printf '%s' "$err" | grep -q "^explain: measured: workers ready in .*check jobs: [0-9]* here, [1-9][0-9]* in workers"; then
    pass
else
    fail "workers: --explain does not say they ran the scans and checks: $(printf '%s' "$err" | grep -i worker)"
fi
if printf '%s' "$err" | grep -q "^explain: peak memory: [0-9.]* MiB in this process; [0-9.]* MiB at most in a worker process"; then
    pass
else
    fail "workers: --explain does not give the peak memory: $(printf '%s' "$err" | grep memory)"
fi
if grep -q "^strata-dispatch-cost 1 start_ms=[0-9.]* rtt_us=[0-9.]* .* runs=2$" "$STRATA_CACHE_DIR/dispatch-cost"; then
    pass
else
    fail "workers: the run's measurements were not merged into the record: $(cat "$STRATA_CACHE_DIR/dispatch-cost")"
fi
leftovers "no cache"
plant_cost favour
run check proj
expect_eq "workers, cold cache: same output" "$out" "$ref"
run check proj
expect_eq "warm cache: same output" "$out" "$ref"
leftovers "cache"

# Measured as too costly, workers are not started for the default...
plant_cost avoid
run check --no-cache --explain proj
expect_eq "too costly: same output" "$out" "$ref"
if printf '%s' "$err" | grep -q "^explain: worker processes not used: dispatching costs"; then pass; else
    fail "too costly: workers used anyway: $(printf '%s' "$err" | grep -i worker)"
fi
# ... but they are when asked for by number
plant_cost avoid
run check --no-cache --explain --workers 1 proj
expect_eq "asked for: same output" "$out" "$ref"
if printf '%s' "$err" | grep -q "^explain: worker processes used"; then pass; else
    fail "asked for: workers not used: $(printf '%s' "$err" | grep -i worker)"
fi
leftovers "cost record"

# A poison pill: every worker that takes this file's job aborts. It is
# the largest file, so that it goes to a worker first (while the workers
# start, strata check scans the smallest files itself).
cat proj/pkg/m1.py proj/pkg/m2.py proj/pkg/m3.py >proj/pkg/poison.py
echo "# STRATA_POISON_PILL_7f3a" >>proj/pkg/poison.py
run check --no-cache --no-workers proj
ref_poison=$out
plant_cost favour
STRATA_TEST_CRASH_ON=STRATA_POISON_PILL_7f3a run check --no-cache proj
expect_eq "poison: exit (a file not checked is an internal error)" "$rc" 2
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

# A job that hangs every worker that takes it (the STRATA_TEST_HANG_ON
# hook: its thread waits until the worker stops): with --job-timeout 1 each
# attempt is given up after a second and retried on a free thread, and
# after the last the file gets an E902 saying it timed out, while every
# other file is checked as usual and the run ends. Two workers of three
# threads: the four attempts leave two threads for the rest.
cat proj/pkg/m1.py proj/pkg/m2.py proj/pkg/m3.py >proj/pkg/stuck.py
echo "# STRATA_HANG_MARKER_c41" >>proj/pkg/stuck.py
run check --no-cache --no-workers proj
ref_hang=$out
plant_cost favour
STRATA_TEST_HANG_ON=STRATA_HANG_MARKER_c41 run check --no-cache --workers 2 -j 3 --job-timeout 1 proj
expect_eq "hang: exit" "$rc" 2
# (a worker whose thread is stuck for twice the deadline exits, its
# --job-limit, so an attempt may also end with its worker)
if printf '%s\n' "$out" | grep -qE "^proj/pkg/stuck.py:1:1: E902 internal error, file not checked: job (timed out 4 times|lost 4 times.*timed out)"; then
    pass
else
    fail "hang: no timed-out E902 on the stuck file: $(printf '%s\n' "$out" | grep stuck | head -3)"
fi
others=$(printf '%s\n' "$out" | grep -v "^proj/pkg/stuck.py:")
want=$(printf '%s\n' "$ref_hang" | grep -v "^proj/pkg/stuck.py:")
expect_eq "hang: every other file checked as usual" "$others" "$want"
leftovers "hang"
rm proj/pkg/stuck.py

# The check jobs that cost more than a round trip run in the workers too:
# one that kills its worker (the module's name appears only in check
# inputs, never in a scan's; its definitions make the input over 1 KiB)
# gets an internal-error E902 on its file; every other file is checked as
# usual.
mkdir -p proj/other # a namespace package nothing imports: only the module's own job names it
{
    printf 'import os\n'
    for j in $(seq 1 40); do printf 'def g_%d(a, b=1, *args, c, **kw):\n    return a\n' "$j"; done
} >proj/other/checkpoison_zz.py
run check --no-cache --no-workers proj
ref_check=$out
plant_cost favour
STRATA_TEST_CRASH_ON=checkpoison_zz run check --no-cache proj
expect_eq "check poison: exit" "$rc" 2
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
            pid=$(pgrep -f "$workers_cmdline" | head -1)
            if [ -n "$pid" ]; then
                sleep 0.05
                kill -9 "$pid" 2>/dev/null
                break
            fi
            sleep 0.01
        done
    ) &
    killer=$!
    plant_cost favour
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
    plant_cost favour
    "$strata" check -q --no-cache proj >/dev/null 2>&1 &
    checker=$!
    for _ in $(seq 1 300); do
        pgrep -f "$workers_cmdline" >/dev/null && break
        sleep 0.01
    done
    n=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'strata-*' -type d | wc -l)
    expect_eq "check killed ($sig): a socket directory while it runs" "$n" 1
    kill -"$sig" "$checker" 2>/dev/null
    wait "$checker" 2>/dev/null
    for _ in $(seq 1 100); do
        pgrep -f "$workers_cmdline" >/dev/null || break
        sleep 0.05
    done
    n=$(pgrep -f "$workers_cmdline" | wc -l)
    expect_eq "check killed ($sig): its workers ended" "$n" 0
    n=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'strata-*' | wc -l)
    expect_eq "check killed ($sig): no socket directory left" "$n" 0
    rm -rf "$tmp"/strata-* # the next case starts clean even if this one failed
done

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
