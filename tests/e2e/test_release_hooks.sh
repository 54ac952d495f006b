#!/usr/bin/env bash
# test_release_hooks.sh - the release strata has no test hooks.
#
# The STRATA_TEST_* environment variables (crash or hang a worker on a
# job, shuffle the check jobs) are read by strata-test only
# (cli/testhooks.c); in strata they compile to nothing, so not one of their
# names may be in the binary, and setting them changes nothing. strata-test,
# beside it, must hold them (else this test proves nothing).
#
# Usage: bash test_release_hooks.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=release_hooks
. "$(dirname "$0")/lib.sh" "$@"

if grep -q -a STRATA_TEST_ "$strata"; then
    fail "release binary holds a STRATA_TEST_ name: $(grep -a -o 'STRATA_TEST_[A-Z_]*' "$strata" | sort -u | tr '\n' ' ')"
else
    pass
fi

hooked=$(dirname "$strata")/strata-test
if [ -x "$hooked" ]; then
    if grep -q -a STRATA_TEST_CRASH_ON "$hooked"; then pass; else fail "strata-test has no hooks"; fi
fi

# A poison pill for strata-test's workers is an ordinary file for strata's.
mkdir proj
printf 'import os\nx = "POISON_7d2"\n' >proj/a.py
run check --no-cache --workers 1 proj
want_out=$out want_rc=$rc
STRATA_TEST_CRASH_ON=POISON_7d2 STRATA_TEST_HANG_ON=POISON_7d2 STRATA_TEST_SHUFFLE=3 \
    run check --no-cache --workers 1 proj
if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ] && [ "$rc" = 1 ]; then
    pass
else
    fail "hooks set: exit $rc (want $want_rc), output '$out' (want '$want_out')"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
