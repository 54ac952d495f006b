# lib.sh - what the end-to-end scripts share: their two arguments, a
# scratch directory removed on exit, and the pass/fail/run helpers.
#
# Source it with E2E_NAME set (it names the scratch directory) and the
# script's arguments: `E2E_NAME=cli; . "$(dirname "$0")/lib.sh" "$@"`. It
# sets $strata and $repo (absolute), $tmp (the current directory from then
# on), and counts in $passed and $failed.

strata=${1:?usage: test_$E2E_NAME.sh PATH-TO-STRATA REPO-ROOT}
repo=${2:?usage: test_$E2E_NAME.sh PATH-TO-STRATA REPO-ROOT}
strata=$(cd "$(dirname "$strata")" && pwd)/$(basename "$strata")
repo=$(cd "$repo" && pwd)
passed=0
failed=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-$E2E_NAME-e2e.XXXXXX")
cleanup() { chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp" || exit 2

pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    printf 'FAIL: %s\n' "$*" >&2
}

# run ARGS...: runs strata, sets $rc, $out (stdout) and $err (stderr).
run() {
    "$strata" "$@" >"$tmp/.out" 2>"$tmp/.err"
    rc=$?
    out=$(cat "$tmp/.out")
    err=$(cat "$tmp/.err")
}
