#!/usr/bin/env bash
# test_sockfuzz.sh - a short run of the socket-level fuzzer (sockfuzz.py)
# against live daemons: about 20 s each against a coordinator without keys,
# one with CurveZMQ keys, and a worker whose coordinator is the fuzzer. Each
# must survive (alive, no sanitizer report, a real submit or scan job still
# answered right between rounds, bounded memory and log) and stop on SIGTERM
# within 2 s with status 0. Rounds are sized by time, not count, so the run
# takes as long under ASan (fewer rounds). Skipped, with the reason, when
# Debian's python3-zmq or python3-msgpack is missing (bootstrap.sh installs
# them).
#
# The seed is new every run and printed; SOCKFUZZ_SEED=N replays one,
# SOCKFUZZ_SECONDS=N sets the time per target. A failing run keeps its work
# directory (the daemons' logs) and prints where.
#
# Usage: bash test_sockfuzz.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=sockfuzz
. "$(dirname "$0")/lib.sh" "$@"

py=/usr/bin/python3
if ! "$py" -c 'import zmq, msgpack' 2>/dev/null; then
    echo "skip: $py lacks zmq or msgpack (Debian's python3-zmq, python3-msgpack;" \
        "scripts/bootstrap.sh installs them)"
    echo "0 passed, 0 failed"
    exit 0
fi

seed=${SOCKFUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
secs=${SOCKFUZZ_SECONDS:-20}
keep="${TMPDIR:-/tmp}/strata-sockfuzz-$seed"
for target in coord coord-keys worker; do
    if "$py" "$repo/tests/e2e/sockfuzz.py" --strata "$strata" --target "$target" \
        --seconds "$secs" --seed "$seed" --workdir "$tmp/fz" >"$tmp/$target.out" 2>&1; then
        pass
        grep "^sockfuzz $target:" "$tmp/$target.out"
    else
        mkdir -p "$keep/$target"
        cp "$tmp/fz/$target"/*.log "$keep/$target/" 2>/dev/null
        fail "sockfuzz $target, seed $seed (replay: SOCKFUZZ_SEED=$seed; logs in $keep/$target):"
        cat "$tmp/$target.out" >&2
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
