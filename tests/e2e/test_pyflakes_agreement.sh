#!/usr/bin/env bash
# test_pyflakes_agreement.sh - strata agrees with pyflakes on the stdlib.
#
# Runs bench/pyflakes_compare.py --strict on /usr/lib/python3.11: every bar
# code (F401 F811 F821 F841) must reach 99% precision and recall, counting
# only the documented cases where pyflakes is wrong as agreement. Skipped,
# with the reason printed, when Debian's pyflakes or the stdlib is missing.
# Usage (ctest): test_pyflakes_agreement.sh STRATA REPO_ROOT
set -uo pipefail

strata=$1
top=$2
pass=0
fail=0

if ! /usr/bin/python3 -c 'import pyflakes' 2>/dev/null; then
    echo "skip: Debian's pyflakes is not installed (scripts/bootstrap.sh installs it)"
    echo "0 passed, 0 failed"
    exit 0
fi
if [ ! -d /usr/lib/python3.11 ]; then
    echo "skip: no /usr/lib/python3.11 on this machine"
    echo "0 passed, 0 failed"
    exit 0
fi

check() { # name, then the command
    local name=$1
    shift
    if out=$("$@" 2>&1); then
        echo "ok   $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        echo "$out" | tail -40
        fail=$((fail + 1))
    fi
}

check "stdlib, every code; 99/99 for the bar codes" \
    /usr/bin/python3 "$top/bench/pyflakes_compare.py" "$strata" --strict --codes all

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
