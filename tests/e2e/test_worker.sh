#!/usr/bin/env bash
# test_worker.sh - end-to-end tests of `strata worker` as a command: its
# usage errors and exit statuses, its help, and a clean exit 0 on SIGTERM
# and SIGINT even with no coordinator there (it keeps trying to connect
# and says so on stderr). The protocol itself is tested with a dispatcher
# in tests/coordinator/test_dispatch.c.
#
# Usage: bash test_worker.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=worker
. "$(dirname "$0")/lib.sh" "$@"

expect() {
    local name=$1 want=$2
    shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then pass; else fail "$name: exit $rc, want $want (stderr: $err)"; fi
}

has() {
    if printf '%s' "$2" | grep -qF -- "$3"; then pass; else fail "$1: no '$3' in: $2"; fi
}

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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
