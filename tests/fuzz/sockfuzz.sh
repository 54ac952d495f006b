#!/usr/bin/env bash
# sockfuzz.sh - the long run of the socket-level fuzzer, for `make fuzz`:
#   tests/fuzz/sockfuzz.sh STRATA [SECONDS]
# runs tests/e2e/sockfuzz.py against each live daemon for SECONDS (default
# 60): a coordinator without keys, one with CurveZMQ keys (both with a real
# worker), and a worker whose coordinator is the fuzzer. The coordinator's
# memory bound is its peak RSS after one batch of the whole stdlib plus
# 100 MB (measured first); a worker's is 150 MB. After a fault, each action
# of the round that faulted is run alone against fresh daemons, and the
# messages of one that is enough are halved while the fault stays, so the
# report names a minimal reproduction. SOCKFUZZ_SEED=N replays a run.
# Prints, per target, the rounds, messages sent, faults and peak RSS; exits
# 1 on any fault (the work directory with the daemons' logs is kept and
# named), 2 on a set-up error.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
strata=${1:?usage: sockfuzz.sh STRATA [SECONDS]}
secs=${2:-60}
py=/usr/bin/python3

if ! "$py" -c 'import zmq, msgpack' 2>/dev/null; then
    echo "sockfuzz: $py lacks zmq or msgpack (scripts/bootstrap.sh installs" \
        "python3-zmq and python3-msgpack)" >&2
    exit 2
fi
seed=${SOCKFUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-sockfuzz.XXXXXX")
log="$work/sockfuzz.out"

nice "$py" "$top/tests/e2e/sockfuzz.py" --strata "$strata" --target all --seconds "$secs" \
    --seed "$seed" --baseline stdlib --minimize --workdir "$work" 2>&1 | tee "$log" |
    grep -E '^(FAULT|NOTE|sockfuzz|  minimal|    and of|      > )'
status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
    rm -rf "$work"
else
    echo "sockfuzz: the whole output is $log; the daemons' logs are under $work"
fi
exit "$status"
