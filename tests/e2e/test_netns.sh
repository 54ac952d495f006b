#!/usr/bin/env bash
# test_netns.sh - a cluster across network namespaces.
#
# A coordinator and two workers, each in its own network namespace, joined
# by veth pairs (10.250.1.0/24 and 10.250.2.0/24, the coordinator's end
# .1): the standard library checked through `strata submit` must print
# byte for byte what `strata check --no-workers` prints in-process, and what
# the single-host default prints. Then one worker is killed with SIGKILL in
# the middle of a batch and another is started in its namespace: the output
# is still identical, and the run ends. The namespaces and links are
# created here and removed on exit. Needs root (ip netns); without it the
# test is skipped with the reason printed.
#
# Usage: bash test_netns.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
set -u

E2E_NAME=netns
. "$(dirname "$0")/lib.sh" "$@"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
    echo "skip: network namespaces need root and iproute2 (ip); running as $(id -un)"
    echo "0 passed, 0 failed"
    exit 0
fi
std=/usr/lib/python3.11
if [ ! -d "$std/email" ]; then
    echo "skip: no $std to check"
    echo "0 passed, 0 failed"
    exit 0
fi

id=$$
nc=strata-c-$id
n1=strata-w1-$id
n2=strata-w2-$id
pids=()

teardown() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in "$nc" "$n1" "$n2"; do ip netns del "$n" 2>/dev/null; done
    cleanup
}
trap teardown EXIT

expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}

WAIT_FOR_SECONDS=15 # wait_for (lib.sh)

# --- the network -------------------------------------------------------------------
if ! ip netns add "$nc" 2>"$tmp/ip.err"; then
    echo "skip: cannot create a network namespace: $(cat "$tmp/ip.err")"
    echo "0 passed, 0 failed"
    exit 0
fi
ip netns add "$n1" && ip netns add "$n2" || { fail "ip netns add"; exit 1; }
for n in "$nc" "$n1" "$n2"; do ip -n "$n" link set lo up; done
link() { # worker-namespace subnet-number
    local a=c$2-$id b=w$2-$id
    ip link add "$a" type veth peer name "$b" &&
        ip link set "$a" netns "$nc" && ip link set "$b" netns "$1" &&
        ip -n "$nc" addr add "10.250.$2.1/24" dev "$a" &&
        ip -n "$1" addr add "10.250.$2.2/24" dev "$b" &&
        ip -n "$nc" link set "$a" up && ip -n "$1" link set "$b" up
}
if link "$n1" 1 && link "$n2" 2; then pass; else fail "veth pairs"; exit 1; fi

# --- the cluster ---------------------------------------------------------------------
ip netns exec "$nc" "$strata" coordinator --bind tcp://0.0.0.0:7700 \
    --workers-bind tcp://0.0.0.0:7701 --insecure --cache-dir "$tmp/ccache" 2>"$tmp/coord.log" &
pids+=($!)
wait_for "$tmp/coord.log" "clients on" || fail "coordinator did not start: $(cat "$tmp/coord.log")"
start_worker() { # namespace subnet log
    ip netns exec "$1" "$strata" worker --connect "tcp://10.250.$2.1:7701" --threads 1 2>"$3" &
    pids+=($!)
}
start_worker "$n1" 1 "$tmp/w1.log"
start_worker "$n2" 2 "$tmp/w2.log"
wait_for "$tmp/w1.log" "working for" || fail "worker 1: $(cat "$tmp/w1.log")"
wait_for "$tmp/w2.log" "working for" || fail "worker 2: $(cat "$tmp/w2.log")"

ex=(--exclude site-packages --exclude dist-packages --exclude test --exclude tests
    --exclude idle_test)
run check --no-cache --no-workers --no-environment "${ex[@]}" "$std"
ref=$out
ref_rc=$rc
run check --no-cache --no-environment "${ex[@]}" "$std"
expect_eq "single-host default: same as in-process" "$out" "$ref"

ip netns exec "$nc" "$strata" submit --coordinator tcp://127.0.0.1:7700 --timeout 60 \
    --no-environment "${ex[@]}" \
    "$std" >"$tmp/submit.out" 2>"$tmp/submit.err"
rc=$?
expect_eq "cluster: exit" "$rc" "$ref_rc"
expect_eq "cluster: same as in-process" "$(cat "$tmp/submit.out")" "$ref"
if grep -q "0 scanned" "$tmp/coord.log"; then
    fail "cluster: the coordinator scanned nothing: $(cat "$tmp/coord.log")"
else
    pass
fi

# --- a worker killed mid-batch, another started --------------------------------------
# a fresh cache directory, so that every file is scanned again
ip netns exec "$nc" "$strata" coordinator --bind tcp://0.0.0.0:7710 \
    --workers-bind tcp://0.0.0.0:7711 --insecure --cache-dir "$tmp/ccache2" 2>"$tmp/coord2.log" &
pids+=($!)
wait_for "$tmp/coord2.log" "clients on" || fail "coordinator 2: $(cat "$tmp/coord2.log")"
ip netns exec "$n1" "$strata" worker --connect tcp://10.250.1.1:7711 --threads 1 \
    2>"$tmp/w3.log" &
pids+=($!)
w3=$!
ip netns exec "$n2" "$strata" worker --connect tcp://10.250.2.1:7711 --threads 1 \
    2>"$tmp/w4.log" &
pids+=($!)
wait_for "$tmp/w3.log" "working for" || fail "worker 3: $(cat "$tmp/w3.log")"
ip netns exec "$nc" "$strata" submit --coordinator tcp://127.0.0.1:7710 --timeout 60 \
    --no-environment "${ex[@]}" \
    "$std" >"$tmp/submit2.out" 2>"$tmp/submit2.err" &
submit=$!
sleep 0.3
kill -9 "$w3" 2>/dev/null
ip netns exec "$n1" "$strata" worker --connect tcp://10.250.1.1:7711 --threads 1 \
    2>"$tmp/w5.log" &
pids+=($!)
wait "$submit"
rc=$?
expect_eq "worker killed: exit" "$rc" "$ref_rc"
expect_eq "worker killed: same output" "$(cat "$tmp/submit2.out")" "$ref"
if wait_for "$tmp/w5.log" "working for"; then pass; else
    fail "the new worker did not join: $(cat "$tmp/w5.log")"
fi

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
