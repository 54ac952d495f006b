#!/usr/bin/env bash
# test_cluster.sh - end-to-end tests of a cluster on this host: `strata
# coordinator` with `strata worker --connect` processes, and `strata
# submit`. Its output must be byte-identical to `strata check --no-cache
# --no-workers` (a fixture project and part of the stdlib); a second
# submit of the same files uploads nothing and is answered whole from the
# cache; check jobs run on the workers when there are some, here when not;
# submits at once (of the same files too) print what sequential ones do; a
# coordinator killed mid-wait makes submit exit 2; a public bind without
# keys is refused; with keys, an allowed client gets its results and
# another is refused (and logged).
#
# Usage: bash test_cluster.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=cluster
. "$(dirname "$0")/lib.sh" "$@"

# same NAME ADDR [ARGS...]: submit and check agree on stdout and exit status
# (both without an environment: test_submit_env.sh checks with one).
same() {
    local name=$1 addr=$2
    shift 2
    submit_same "$name" "$addr" --no-environment "$@"
}

# ---- usage ----------------------------------------------------------------
expect "coordinator without --bind" 2 coordinator
has "coordinator without --bind message" "$err" "missing --bind ADDR"
expect "submit without --coordinator" 2 submit .
has "submit without --coordinator message" "$err" "missing --coordinator ADDR"
expect "coordinator help" 0 coordinator --help
expect "submit help" 0 submit --help
expect "keys without allow" 2 coordinator --bind "ipc://$tmp/x" --keys "$tmp"

port=$(free_ports)
expect "public bind without keys" 2 coordinator --bind "tcp://0.0.0.0:$port"
has "public bind refused" "$err" "refusing to bind tcp://0.0.0.0:$port without authentication"

# ---- ipc, two workers ------------------------------------------------------
cp -r "$repo/tests/data/projects/calls" "$tmp/proj"
printf 'import os\n' >"$tmp/proj/unused.py"
addr="ipc://$tmp/coord.sock"
"$strata" coordinator --bind "$addr" --cache-dir "$tmp/cache1" 2>"$tmp/coord1.log" &
pids+=($!)
wait_for "$tmp/coord1.log" "clients on" || fail "coordinator 1 did not start: $(cat "$tmp/coord1.log")"
for k in 1 2; do
    "$strata" worker --connect "$addr.workers" --threads 1 2>"$tmp/worker$k.log" &
    pids+=($!)
done
wait_for "$tmp/worker1.log" "working for" || fail "worker 1 did not connect"
wait_for "$tmp/worker2.log" "working for" || fail "worker 2 did not connect"

cd "$tmp" || exit 2
same "fixture project" "$addr" proj
# the check jobs ran on the workers, none here
line=$(grep "batch from" "$tmp/coord1.log" | head -1)
if printf '%s' "$line" | grep -qE ', [1-9][0-9]* on workers, 0 here\)'; then pass; else
    fail "check jobs on the workers: $line"
fi
same "fixture project, json" "$addr" --format json proj
same "fixture project, select" "$addr" --select F4 proj
same "stdlib json and email" "$addr" --root /usr/lib/python3.11 /usr/lib/python3.11/json \
    /usr/lib/python3.11/email
n_before=$(grep -c "batch from" "$tmp/coord1.log")
same "stdlib again" "$addr" --root /usr/lib/python3.11 /usr/lib/python3.11/json \
    /usr/lib/python3.11/email
last=$(grep "batch from" "$tmp/coord1.log" | tail -1)
has "second submit uploads nothing" "$last" " 0 uploaded, 0 scanned"
# ... and is answered whole from the cache: no check job either
has "second submit answered whole" "$last" \
    "0 checks (0 cached, 0 on workers, 0 here), whole run from the cache"
if [ "$(grep -c "batch from" "$tmp/coord1.log")" -eq $((n_before + 1)) ]; then pass; else
    fail "one log line per batch"
fi
# the first stdlib batch uploaded and scanned its files
first=$(grep "batch from" "$tmp/coord1.log" | sed -n 4p)
if printf '%s' "$first" | grep -q " 0 uploaded\| 0 scanned\|whole run"; then
    fail "first stdlib batch: $first"
else
    pass
fi

# six submits at once (more than are served at once: some wait their
# turn), two of the same new files (both batches scan and store them at
# once): each prints what a sequential in-process check prints
at_once=(xml xml http logging html unittest)
for d in xml http logging html unittest; do
    "$strata" check --no-cache --no-workers --no-environment --root /usr/lib/python3.11 "/usr/lib/python3.11/$d" \
        >"$tmp/check_$d.out" 2>/dev/null
done
tw=()
for k in "${!at_once[@]}"; do
    timeout 60 "$strata" submit --coordinator "$addr" --no-environment --root /usr/lib/python3.11 \
        "/usr/lib/python3.11/${at_once[$k]}" >"$tmp/twin$k.out" 2>"$tmp/twin$k.err" &
    tw+=($!)
done
for k in "${!at_once[@]}"; do
    wait "${tw[$k]}"
    trc=$?
    want="$tmp/check_${at_once[$k]}.out"
    if [ "$trc" -le 1 ] && [ -f "$want" ] && cmp -s "$want" "$tmp/twin$k.out"; then pass; else
        fail "submit $k of six at once (${at_once[$k]}): exit $trc: $(cat "$tmp/twin$k.err")"
    fi
done
# and the cache they filled at once answers the same
same "xml after the concurrent submits" "$addr" --root /usr/lib/python3.11 /usr/lib/python3.11/xml

# a compiled extension module exists for imports (sent, not checked)
mkdir -p "$tmp/extpkg/pkg"
: >"$tmp/extpkg/pkg/__init__.py"
: >"$tmp/extpkg/pkg/_speed.cpython-311-x86_64-linux-gnu.so"
printf 'from pkg import _speed, _missing\nfrom pkg._speed import thing\n' >"$tmp/extpkg/pkg/use.py"
same "extension module" "$addr" extpkg

# unreadable and missing files, as check reports them
mkdir -p "$tmp/odd" && printf 'x = 1\n' >"$tmp/odd/ok.py" && printf 'y = 2\n' >"$tmp/odd/locked.py"
chmod 000 "$tmp/odd/locked.py"
if [ "$(id -u)" -ne 0 ]; then same "unreadable file" "$addr" odd; fi
chmod 644 "$tmp/odd/locked.py"
same "missing argument" "$addr" odd nothere.py
same "files over --max-file-size" "$addr" --max-file-size 40 proj

# ---- a coordinator killed mid-wait ------------------------------------------
# The workers are stopped (still registered): the batch's scans wait on them
# while the coordinator sends PROGRESS; then it is killed.
kill -STOP "${pids[1]}" "${pids[2]}"
mkdir -p "$tmp/fresh" && printf 'import sys\nz = 3\n' >"$tmp/fresh/new_module.py"
timeout 60 "$strata" submit --coordinator "$addr" --no-environment --timeout 2 fresh >/dev/null \
    2>"$tmp/killed.err" &
sub=$!
sleep 0.5
{
    kill -KILL "${pids[0]}"
    wait "${pids[0]}"
} 2>/dev/null
wait "$sub"
src=$?
if [ "$src" -eq 2 ]; then pass; else fail "submit to a killed coordinator: exit $src, want 2"; fi
has "killed coordinator message" "$(cat "$tmp/killed.err")" "the coordinator at $addr stopped answering"
kill -CONT "${pids[1]}" "${pids[2]}"
stop_all

# ---- a job that hangs on every worker: --job-timeout ------------------------
# The workers' STRATA_TEST_HANG_ON hook hangs any job whose input holds the
# marker (its thread stays busy until the worker stops). Each attempt is
# given up after 1 s and retried; after the last one the file gets an E902
# saying so, and every other file gets what check gives it.
mkdir -p "$tmp/hang"
printf 'import os\n' >"$tmp/hang/fine.py"
printf 'import sys\nHANG_MARKER_5e1 = 1\n' >"$tmp/hang/stuck.py"
addr="ipc://$tmp/coord_hang.sock"
"$strata" coordinator --bind "$addr" --cache-dir "$tmp/cache_hang" --job-timeout 1 \
    2>"$tmp/coord_hang.log" &
pids+=($!)
wait_for "$tmp/coord_hang.log" "clients on" || fail "coordinator (hang) did not start"
for k in 1 2; do
    STRATA_TEST_HANG_ON=HANG_MARKER_5e1 "$strata" worker --connect "$addr.workers" --threads 3 \
        2>"$tmp/worker_hang$k.log" &
    pids+=($!)
done
wait_for "$tmp/worker_hang1.log" "working for" || fail "worker (hang) 1 did not connect"
wait_for "$tmp/worker_hang2.log" "working for" || fail "worker (hang) 2 did not connect"
"$strata" check --no-cache --no-workers hang >"$tmp/hang_check.out" 2>/dev/null
timeout 60 "$strata" submit --coordinator "$addr" hang >"$tmp/hang_submit.out" \
    2>"$tmp/hang_submit.err"
hrc=$?
if [ "$hrc" -eq 2 ]; then pass; else fail "a timed-out job: exit $hrc, want 2 (a job failed)"; fi
has "timed-out file gets an E902" "$(grep '^hang/stuck.py:' "$tmp/hang_submit.out")" "E902"
has "the E902 says it timed out" "$(grep '^hang/stuck.py:' "$tmp/hang_submit.out")" "timed out"
if cmp -s <(grep -v '^hang/stuck.py:' "$tmp/hang_check.out") \
    <(grep -v '^hang/stuck.py:' "$tmp/hang_submit.out"); then pass; else
    fail "the other files of a run with a timed-out job: $(diff "$tmp/hang_check.out" "$tmp/hang_submit.out")"
fi
stop_all

# ---- tcp on loopback, no worker: scans in the coordinator ------------------
port=$(free_ports)
taddr="tcp://127.0.0.1:$port"
"$strata" coordinator --bind "$taddr" --cache-dir "$tmp/cache2" 2>"$tmp/coord2.log" &
pids+=($!)
wait_for "$tmp/coord2.log" "workers on tcp://127.0.0.1:$((port + 1))" ||
    fail "tcp coordinator did not start: $(cat "$tmp/coord2.log")"
same "tcp, fixture project" "$taddr" proj
same "tcp, stdlib json" "$taddr" --root /usr/lib/python3.11 /usr/lib/python3.11/json
# no worker: the check jobs ran here
line=$(grep "batch from" "$tmp/coord2.log" | head -1)
if printf '%s' "$line" | grep -qE ', 0 on workers, [1-9][0-9]* here\)'; then pass; else
    fail "check jobs here without workers: $line"
fi
# two clients at once: the second waits its turn (with PROGRESS), both right
"$strata" check --no-cache --no-workers --root /usr/lib/python3.11 /usr/lib/python3.11/logging \
    >"$tmp/check_a.out" 2>/dev/null
"$strata" check --no-cache --no-workers --root /usr/lib/python3.11 /usr/lib/python3.11/html \
    >"$tmp/check_b.out" 2>/dev/null
timeout 60 "$strata" submit --coordinator "$taddr" --root /usr/lib/python3.11 \
    /usr/lib/python3.11/logging >"$tmp/sub_a.out" 2>"$tmp/sub_a.err" &
sa=$!
timeout 60 "$strata" submit --coordinator "$taddr" --root /usr/lib/python3.11 \
    /usr/lib/python3.11/html >"$tmp/sub_b.out" 2>"$tmp/sub_b.err" &
sb=$!
wait "$sa"
ra=$?
wait "$sb"
rb=$?
if [ "$ra" -le 1 ] && cmp -s "$tmp/check_a.out" "$tmp/sub_a.out"; then pass; else
    fail "concurrent client a: exit $ra: $(cat "$tmp/sub_a.err")"
fi
if [ "$rb" -le 1 ] && cmp -s "$tmp/check_b.out" "$tmp/sub_b.out"; then pass; else
    fail "concurrent client b: exit $rb: $(cat "$tmp/sub_b.err")"
fi
# the wrong port: a worker on the clients' port is refused with the right
# port named and stops; a client on the workers' port is told where to go;
# the coordinator logs one line each, naming both ports
timeout 20 "$strata" worker --connect "$taddr" --threads 1 2>"$tmp/wrongw.log"
wrc=$?
if [ "$wrc" -eq 2 ]; then pass; else fail "worker on the clients' port: exit $wrc, want 2"; fi
has "worker on the clients' port, its message" "$(cat "$tmp/wrongw.log")" \
    "workers connect to tcp://127.0.0.1:$((port + 1))"
run submit --coordinator "tcp://127.0.0.1:$((port + 1))" --timeout 10 proj
if [ "$rc" -eq 2 ]; then pass; else fail "client on the workers' port: exit $rc, want 2"; fi
has "client on the workers' port, its message" "$err" "clients submit to $taddr"
has "coordinator's line on a worker at the clients' port" "$(cat "$tmp/coord2.log")" \
    "a worker connected to the clients' port: told to connect to the workers' port, tcp://127.0.0.1:$((port + 1))"
has "coordinator's line on a client at the workers' port" "$(cat "$tmp/coord2.log")" \
    "sent SUBMIT to the workers' port (tcp://127.0.0.1:$((port + 1))): told to submit to $taddr"
# SIGTERM mid-batch (its scans wait on a stopped worker): the client is told
"$strata" worker --connect "tcp://127.0.0.1:$((port + 1))" --threads 1 2>"$tmp/worker3.log" &
pids+=($!)
wait_for "$tmp/worker3.log" "working for" || fail "tcp worker did not connect"
kill -STOP "${pids[1]}"
mkdir -p "$tmp/fresh2" && printf 'import json\nw = 4\n' >"$tmp/fresh2/another.py"
timeout 60 "$strata" submit --coordinator "$taddr" --no-environment fresh2 >/dev/null \
    2>"$tmp/term.err" &
sub=$!
sleep 1
kill -TERM "${pids[0]}"
wait "$sub"
src=$?
if [ "$src" -eq 2 ]; then pass; else fail "submit to a stopping coordinator: exit $src, want 2"; fi
has "stopping coordinator message" "$(cat "$tmp/term.err")" "the coordinator is stopping"
kill -CONT "${pids[1]}"
stop_all

# a silent (stopped) coordinator: no answer in the timeout
"$strata" coordinator --bind "$taddr" --cache-dir "$tmp/cache2" 2>"$tmp/coord3.log" &
pids+=($!)
wait_for "$tmp/coord3.log" "clients on" || fail "coordinator 3 did not start"
kill -STOP "${pids[0]}"
run submit --coordinator "$taddr" --timeout 1 proj
if [ "$rc" -eq 2 ]; then pass; else fail "stopped coordinator: exit $rc, want 2"; fi
has "stopped coordinator message" "$err" "the coordinator at $taddr"
kill -CONT "${pids[0]}"
stop_all

# ---- keys -------------------------------------------------------------------
mkdir -p keys allow ckeys bad
"$strata" keygen --dir keys --name coordinator >/dev/null
"$strata" keygen --dir ckeys --name client >/dev/null
"$strata" keygen --dir bad --name client >/dev/null
cp ckeys/client.pub allow/
port=$(free_ports)
kaddr="tcp://127.0.0.1:$port"
"$strata" coordinator --bind "$kaddr" --keys keys --allow allow --cache-dir "$tmp/cache3" \
    2>"$tmp/coord4.log" &
pids+=($!)
wait_for "$tmp/coord4.log" "clients and workers authenticated" ||
    fail "keyed coordinator did not start: $(cat "$tmp/coord4.log")"
"$strata" check --no-cache --no-workers proj >"$tmp/check.out" 2>/dev/null
want=$?
timeout 60 "$strata" submit --coordinator "$kaddr" --keys ckeys --server-key keys/coordinator.pub \
    proj >"$tmp/submit.out" 2>"$tmp/submit.err"
got=$?
if [ "$got" -eq "$want" ] && cmp -s "$tmp/check.out" "$tmp/submit.out"; then pass; else
    fail "allowed key: exit $got (want $want): $(cat "$tmp/submit.err")"
fi
# a worker with an allowed key works for the keyed coordinator; one with
# another key is refused and logged
mkdir -p wkeys
"$strata" keygen --dir wkeys --name worker >/dev/null
cp wkeys/worker.pub allow/worker.pub
# the allowlist is read at start: restart the coordinator with the worker's key in it
stop_all
"$strata" coordinator --bind "$kaddr" --keys keys --allow allow --cache-dir "$tmp/cache3k" \
    2>"$tmp/coord4.log" &
pids+=($!)
wait_for "$tmp/coord4.log" "clients and workers authenticated" ||
    fail "keyed coordinator did not restart: $(cat "$tmp/coord4.log")"
"$strata" worker --connect "tcp://127.0.0.1:$((port + 1))" --server-key keys/coordinator.pub \
    --key wkeys/worker.key --threads 1 2>"$tmp/kworker.log" &
pids+=($!)
"$strata" worker --connect "tcp://127.0.0.1:$((port + 1))" --server-key keys/coordinator.pub \
    --key bad/client.key --threads 1 2>"$tmp/kbadworker.log" &
pids+=($!)
if wait_for "$tmp/kworker.log" "working for"; then pass; else
    fail "keyed worker: $(cat "$tmp/kworker.log")"
fi
timeout 60 "$strata" submit --coordinator "$kaddr" --keys ckeys --server-key keys/coordinator.pub \
    proj >"$tmp/submit.out" 2>"$tmp/submit.err"
got=$?
if [ "$got" -eq "$want" ] && cmp -s "$tmp/check.out" "$tmp/submit.out"; then pass; else
    fail "keyed worker: exit $got (want $want): $(cat "$tmp/submit.err")"
fi
if grep -q "working for" "$tmp/kbadworker.log"; then
    fail "a worker with a key not allowed got work: $(cat "$tmp/kbadworker.log")"
else
    pass
fi
has "refused worker key logged" "$(cat "$tmp/coord4.log")" "$(cat bad/client.pub)"
run submit --coordinator "$kaddr" --keys bad --server-key keys/coordinator.pub --timeout 2 proj
if [ "$rc" -eq 2 ]; then pass; else fail "refused key: exit $rc, want 2"; fi
has "refused key message" "$err" "refused this client's key"
bad_key=$(cat bad/client.pub)
has "refused key logged" "$(cat "$tmp/coord4.log")" "$bad_key"
run submit --coordinator "$kaddr" --timeout 2 proj
if [ "$rc" -eq 2 ]; then pass; else fail "no key to a keyed coordinator: exit $rc, want 2"; fi
stop_all

# with keys, a public bind is allowed (both sockets are CURVE servers)
port=$(free_ports)
"$strata" coordinator --bind "tcp://0.0.0.0:$port" --keys keys --allow allow \
    --cache-dir "$tmp/cache4" 2>"$tmp/coord5.log" &
pids+=($!)
if wait_for "$tmp/coord5.log" "clients and workers authenticated"; then pass; else
    fail "public bind with keys: $(cat "$tmp/coord5.log")"
fi
stop_all
# without keys, a public workers' socket is refused too
expect "public workers' socket" 2 coordinator --bind "ipc://$tmp/pw" --workers-bind \
    "tcp://0.0.0.0:$port"
has "public workers' socket message" "$err" "refusing to bind the workers' socket"

# no process reported a sanitizer error (under build-asan)
if grep -l "Sanitizer" "$tmp"/*.log "$tmp"/*.err >/dev/null 2>&1; then
    fail "sanitizer reports: $(grep -l "Sanitizer" "$tmp"/*.log "$tmp"/*.err)"
else
    pass
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
