#!/usr/bin/env bash
# test_worker.sh - end-to-end tests of `strata worker` as a command: its
# usage errors and exit statuses, its help, and a clean exit 0 on SIGTERM
# and SIGINT even with no coordinator there (it keeps trying to connect
# and says so on stderr), and its local cache kept on disk across a
# restart (--cache-dir). The protocol itself is tested with a dispatcher
# in tests/coordinator/test_dispatch.c.
#
# Usage: bash test_worker.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=worker
. "$(dirname "$0")/lib.sh" "$@"

expect "no --connect" 2 worker
has "no --connect message" "$err" "missing --connect ADDR"
expect "bad address" 2 worker --connect udp://x
expect "bad threads" 2 worker --connect "ipc://$tmp/s" --threads x
expect "unknown option" 2 worker --connect "ipc://$tmp/s" --bogus
expect "help" 0 worker --help
has "help text" "$out" "usage: strata worker --connect ADDR"
expect "help command" 0 help worker
has "help command text" "$out" "--threads N"
expect "listed" 0 help
has "worker in the command list" "$out" "worker"

# stop_with SIGNAL: a worker with nobody to talk to ends with exit 0.
stop_with() {
    local sig=$1 pid rc i
    "$strata" worker --connect "ipc://$tmp/nobody-$sig" --threads 1 2>"$tmp/w.err" &
    pid=$!
    # wait until it is up (its first line, or a moment), then signal it
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        [ "$i" -ge 5 ] && break
    done
    kill "-$sig" "$pid"
    wait "$pid"
    rc=$?
    if [ "$rc" -eq 0 ]; then pass; else fail "worker after SIG$sig: exit $rc, want 0"; fi
}
stop_with TERM
stop_with INT

# with nobody there, after the timeout it says it reconnects
"$strata" worker --connect "ipc://$tmp/silent" --threads 1 2>"$tmp/w.err" &
pid=$!
# (twice: the second delay is twice the first)
for i in $(seq 1 600); do
    grep -q "reconnecting to ipc://.* in 500 ms" "$tmp/w.err" && break
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
same_rc=$?
has "says it reconnects" "$(cat "$tmp/w.err")" "no heartbeat from the coordinator for 3000 ms; reconnecting to ipc://$tmp/silent in 250 ms"
has "backs off" "$(cat "$tmp/w.err")" "reconnecting to ipc://$tmp/silent in 500 ms"
if [ "$same_rc" -eq 0 ]; then pass; else fail "worker after reconnecting: exit $same_rc"; fi

# ---- the local cache ---------------------------------------------------------
# A worker restarted with the same --cache-dir answers a job it ran before
# from disk: each run has a fresh coordinator (memory cache only), so the
# jobs do reach the worker, and the worker's last line counts the hits.

WAIT_FOR_SECONDS=30 # wait_for (lib.sh)

# cached_run N: a coordinator (with a cache of its own, new each run, so
# that the jobs reach the worker), a worker with the cache in $tmp/wcache,
# one submit of $tmp/proj; the worker's log in $tmp/cw$N.log.
cached_run() {
    local n=$1 coord worker
    "$strata" coordinator --bind "ipc://$tmp/c$n" --cache-dir "$tmp/cc$n.cache" \
        2>"$tmp/cc$n.log" &
    coord=$!
    wait_for "$tmp/cc$n.log" "clients on" || fail "coordinator $n did not start"
    "$strata" worker --connect "ipc://$tmp/c$n.workers" --threads 1 --cache-dir "$tmp/wcache" \
        2>"$tmp/cw$n.log" &
    worker=$!
    wait_for "$tmp/cw$n.log" "working for" || fail "worker $n did not connect"
    timeout 60 "$strata" submit --coordinator "ipc://$tmp/c$n" proj >"$tmp/cs$n.out" 2>/dev/null
    echo $? >"$tmp/cs$n.rc"
    kill -TERM "$worker"
    wait "$worker"
    echo $? >"$tmp/cw$n.rc"
    kill -TERM "$coord"
    wait "$coord"
}

cp -r "$repo/tests/data/projects/calls" "$tmp/proj"
n_files=$(find "$tmp/proj" -name '*.py' | wc -l)
cached_run 1
cached_run 2
if cmp -s "$tmp/cs1.out" "$tmp/cs2.out" && [ "$(cat "$tmp/cs1.rc")" = "$(cat "$tmp/cs2.rc")" ]; then
    pass
else
    fail "the cached run's report differs from the first: $(diff "$tmp/cs1.out" "$tmp/cs2.out")"
fi
"$strata" check --no-cache --no-workers proj >"$tmp/check.out" 2>/dev/null
if cmp -s "$tmp/check.out" "$tmp/cs2.out"; then pass; else fail "cached run differs from check"; fi
for n in 1 2; do
    if [ "$(cat "$tmp/cw$n.rc")" -eq 0 ]; then pass; else fail "cached worker $n: exit $(cat "$tmp/cw$n.rc")"; fi
done
# first run: every scan a miss; second: at least every scan a hit, from disk
line1=$(grep "stopped after" "$tmp/cw1.log")
line2=$(grep "stopped after" "$tmp/cw2.log")
has "first run's cache line" "$line1" "local cache $tmp/wcache: 0 hits (0 from disk)"
hits=$(printf '%s' "$line2" | sed -n 's/.*: \([0-9]*\) hits (\([0-9]*\) from disk), \([0-9]*\) misses.*/\1 \2 \3/p')
read -r h d m <<<"$hits"
if [ -n "$hits" ] && [ "$h" -ge "$n_files" ] && [ "$d" -eq "$h" ] && [ "$m" -eq 0 ]; then
    pass
else
    fail "second run not answered from disk ($n_files files): $line2"
fi

# --no-cache: the line says so
"$strata" worker --connect "ipc://$tmp/nobody-nc" --threads 1 --no-cache 2>"$tmp/nc.log" &
pid=$!
wait_for "$tmp/nc.log" "reconnecting" >/dev/null
kill -TERM "$pid"
wait "$pid"
has "no cache" "$(cat "$tmp/nc.log")" "local cache off"
expect "no-cache with cache-dir" 2 worker --connect "ipc://$tmp/s" --no-cache --cache-dir "$tmp/x"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
