# lib.sh - what the end-to-end scripts share: their two arguments, a
# scratch directory removed on exit, the pass/fail/run/expect/has helpers,
# and stop_all for the daemons a script starts.
#
# Source it with E2E_NAME set (it names the scratch directory) and the
# script's arguments: `E2E_NAME=cli; . "$(dirname "$0")/lib.sh" "$@"`. It
# sets $strata and $repo (absolute), $tmp (the current directory from then
# on), and counts in $passed and $failed; wait_for waits for a daemon's
# log line, submit_same compares strata submit with strata check,
# free_ports finds ports for a coordinator.

strata=${1:?usage: test_$E2E_NAME.sh PATH-TO-STRATA REPO-ROOT}
repo=${2:?usage: test_$E2E_NAME.sh PATH-TO-STRATA REPO-ROOT}
strata=$(cd "$(dirname "$strata")" && pwd)/$(basename "$strata")
repo=$(cd "$repo" && pwd)
passed=0
failed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-$E2E_NAME-e2e.XXXXXX")
# each script's own shared cache of library scans (never the user's)
export STRATA_SHARED_CACHE_DIR="$tmp/shared-cache"
cleanup() { chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"; }
# Daemons a script starts: their pids go in $pids; stop_all ends them
# (SIGTERM, then SIGKILL after 5 s) and runs on exit before cleanup.
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pids=()
}
trap 'stop_all; cleanup' EXIT
cd "$tmp" || exit 2

pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    printf 'FAIL: %s\n' "$*" >&2
}

# free_ports: prints the first of two consecutive free TCP ports on
# 127.0.0.1 (a coordinator's clients' port and its workers', the next).
free_ports() {
    python3 - <<'EOF'
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
EOF
}

# run ARGS...: runs strata, sets $rc, $out (stdout) and $err (stderr).
run() {
    "$strata" "$@" >"$tmp/.out" 2>"$tmp/.err"
    rc=$?
    out=$(cat "$tmp/.out")
    err=$(cat "$tmp/.err")
}

# wait_for FILE TEXT: until FILE holds TEXT (at most $WAIT_FOR_SECONDS,
# default 10 s).
wait_for() {
    for _ in $(seq 1 $((${WAIT_FOR_SECONDS:-10} * 10))); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# submit_same NAME ADDR ARGS...: `strata submit --coordinator ADDR ARGS`
# prints on stdout what `strata check --no-cache --no-workers ARGS` prints,
# with the same exit status; leaves check.out, submit.out and submit.err
# in $tmp.
submit_same() {
    local name=$1 addr=$2
    shift 2
    "$strata" check --no-cache --no-workers "$@" >"$tmp/check.out" 2>"$tmp/check.err"
    local want=$?
    timeout 60 "$strata" submit --coordinator "$addr" "$@" >"$tmp/submit.out" 2>"$tmp/submit.err"
    local got=$?
    if [ "$got" -eq "$want" ] && cmp -s "$tmp/check.out" "$tmp/submit.out"; then
        pass
    else
        fail "$name: submit exit $got (check $want), outputs differ or: $(cat "$tmp/submit.err")"
        diff "$tmp/check.out" "$tmp/submit.out" | head -5 >&2
    fi
}

# expect NAME STATUS ARGS...: runs strata with ARGS, passes when it exits STATUS.
expect() {
    local name=$1 want=$2
    shift 2
    run "$@"
    if [ "$rc" -eq "$want" ]; then pass; else fail "$name: exit $rc, want $want (stderr: $err)"; fi
}

# has NAME TEXT WORDS: passes when TEXT holds WORDS.
has() {
    if printf '%s' "$2" | grep -qF -- "$3"; then pass; else fail "$1: no '$3' in: $2"; fi
}
