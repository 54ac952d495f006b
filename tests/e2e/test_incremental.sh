#!/usr/bin/env bash
# test_incremental.sh - the import graph's end-to-end guarantees.
#
#  - `strata check` output is identical whatever --jobs is and whatever
#    order check jobs finish in (STRATA_TEST_SHUFFLE picks a random ready
#    component each time), on a small project and on part of the standard
#    library (importlib and email have import cycles);
#  - incremental re-checks, counted with --explain: an unchanged re-check
#    runs no job; an edit inside a function body runs 1 scan and 1 check;
#    an edit that changes an interface runs the checks of the modules that
#    import it and stops where their interfaces are unchanged (early
#    cutoff); the output after each edit is the same as a cold run's;
#  - `strata graph` prints valid JSON and DOT, and rejects a bad --format.
#
# Usage: bash test_incremental.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
set -u

E2E_NAME=incremental
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"

expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}

# counts: "scans checks" that ran, from the --explain summary line of $err
counts() {
    printf '%s\n' "$err" | sed -n 's/^explain: \([0-9]*\) scans ran, [0-9]* cached; \([0-9]*\) check jobs ran.*/\1 \2/p'
}

# --- a small project -----------------------------------------------------------
mkdir -p proj/app proj/lib
cat >proj/lib/__init__.py <<'EOF'
from .core import helper, Base

__all__ = ["helper", "Base"]
EOF
cat >proj/lib/core.py <<'EOF'
def helper(a, b=1):
    return a + b


class Base:
    pass
EOF
cat >proj/lib/extra.py <<'EOF'
import lib.core


def twice(x):
    return lib.core.helper(x) * 2
EOF
cat >proj/app/__init__.py <<'EOF'
EOF
cat >proj/app/main.py <<'EOF'
import lib.extra
from lib import helper, missing_name


def run():
    lib.extra.twice(1)
    lib.extra.nothing_here()
    return helper(1, 2, 3)
EOF
cat >proj/app/user.py <<'EOF'
from lib.extra import twice

twice(1)
EOF
cat >proj/app/cycle_a.py <<'EOF'
from app import cycle_b
EOF
cat >proj/app/cycle_b.py <<'EOF'
from app import cycle_a
EOF

run check --no-cache proj
cold=$out
expect_eq "project: exit status" "$rc" 1
for want in "proj/app/main.py:2:[0-9]*: E0611 No name 'missing_name' in module 'lib'" \
    "proj/app/main.py:7:[0-9]*: E1101 Module 'lib.extra' has no 'nothing_here' member" \
    "proj/app/main.py:8:[0-9]*: E1121 " "proj/app/cycle_[ab].py:1:[0-9]*: R0401 "; do
    if printf '%s' "$cold" | grep -q -- "$want"; then pass; else fail "project: no '$want' in: $cold"; fi
done
for jobs in 1 2 3; do
    for seed in 0 1 2 3; do
        STRATA_TEST_SHUFFLE=$seed run check --no-cache -j "$jobs" proj
        expect_eq "project: -j $jobs shuffle $seed" "$out" "$cold"
    done
done

# --explain's lines come in the same order whatever the jobs and their order
explain_lines() { printf '%s\n' "$err" | grep '^explain: check '; }
run check --explain --cache-dir "$tmp/explain-cache-ref" -j 1 proj
explain_ref=$(explain_lines)
for seed in 1 2 3 4 5; do
    STRATA_TEST_SHUFFLE=$seed run check --explain --cache-dir "$tmp/explain-cache-$seed" -j 2 proj
    expect_eq "explain order: shuffle $seed" "$(explain_lines)" "$explain_ref"
done

# --- a module an interface binds without importing it ---------------------------
# `from pkg import *` with pkg's __all__ naming its submodule pkg.sub binds
# sub in other's interface, but nothing orders pkg.sub's job before zmain's:
# whether zmain's job reads pkg.sub's interface must not depend on whether
# that job happens to be done (ids alone are no guarantee: pkg.sub has a
# smaller component id than zmain).
mkdir -p star/pkg
echo '__all__ = ["sub"]' >star/pkg/__init__.py
printf 'def f():\n    pass\n' >star/pkg/sub.py
echo 'from pkg import *' >star/other.py
printf 'from other import sub\n\nsub.g()\n' >star/zmain.py
run check --no-cache -j 1 star
star_ref=$out
for jobs in 1 2; do
    for seed in 1 2 3 4 5 6 7 8; do
        STRATA_TEST_SHUFFLE=$seed run check --no-cache -j "$jobs" star
        expect_eq "star submodule: -j $jobs shuffle $seed" "$out" "$star_ref"
    done
done

# --- a file with more than 100,000 imports is checked like any other ---------
# (a cap on imports once made its summary "corrupt": the check job got no
# resolutions for its imports and the file an internal-error E902, exit 2)
mkdir -p many
echo 'X = 1' >many/m0.py
awk 'BEGIN { for (i = 0; i <= 100000; i++) print "import m0"; print "m0.nope" }' >many/big.py
run check --no-cache -q --select E many
expect_eq "many imports: exit status" "$rc" 1
expect_eq "many imports: output" "$out" "many/big.py:100002:1: E1101 Module 'm0' has no 'nope' member"

# --- part of the standard library ---------------------------------------------
std=/usr/lib/python3.11
if [ -d "$std/importlib" ] && [ -d "$std/email" ]; then
    run check --no-cache -j 1 --root "$std" "$std/importlib" "$std/email" "$std/json"
    ref=$out
    for seed in 1 2 3; do
        STRATA_TEST_SHUFFLE=$seed run check --no-cache -j 2 --root "$std" "$std/importlib" \
            "$std/email" "$std/json"
        expect_eq "stdlib part: shuffle $seed" "$out" "$ref"
    done
else
    echo "skipped the stdlib part: no $std/importlib" >&2
fi

# --- incremental ------------------------------------------------------------------
run check --explain proj
expect_eq "cold: output" "$out" "$cold"
expect_eq "cold: jobs" "$(counts)" "8 7"
if printf '%s' "$err" | grep -q "explain: check .*: no cache entry"; then pass; else
    fail "cold: no 'no cache entry' reason in: $err"
fi

run check --explain proj
expect_eq "unchanged: output" "$out" "$cold"
expect_eq "unchanged: jobs" "$(counts)" "0 0"
if printf '%s' "$err" | grep -q "in one piece"; then pass; else
    fail "unchanged: the whole run's diagnostics were not one lookup: $err"
fi

# another --root is another run: its check results are all cached, but not
# as a whole, which is stored for the next time
run check --explain --root proj proj
expect_eq "other root: output" "$out" "$cold"
expect_eq "other root: jobs" "$(counts)" "0 0"
if printf '%s' "$err" | grep -q "in one piece"; then
    fail "other root: the whole run of another root was reused: $err"
else
    pass
fi
run check --explain --root proj proj
if printf '%s' "$err" | grep -q "in one piece"; then pass; else
    fail "other root, again: not one lookup: $err"
fi

# an edit inside a function body: one scan, one check
sed -i 's/return a + b/return b + a/' proj/lib/core.py
run check --explain proj
expect_eq "body edit: jobs" "$(counts)" "1 1"
if printf '%s' "$err" | grep -q "explain: check lib.core: new content of module lib.core"; then
    pass
else
    fail "body edit: reason: $err"
fi
run check --no-cache proj
expect_eq "body edit: same as cold" "$(cd . && "$strata" check proj 2>/dev/null)" "$out"

# an interface edit: lib.core gets a parameter. lib re-exports helper, so its
# interface changes too; lib.extra (import lib.core binds lib) and app.main
# import lib and re-check. lib.extra's interface is unchanged (it binds the
# module lib, whatever lib holds), so app.user, which imports only
# lib.extra, is not re-checked: the early cutoff.
sed -i 's/def helper(a, b=1):/def helper(a, b=1, c=2):/' proj/lib/core.py
run check --explain proj
expect_eq "interface edit: jobs" "$(counts)" "1 4"
if printf '%s' "$err" | grep -q "changed dependency interface lib.core"; then pass; else
    fail "interface edit: reason: $err"
fi
new=$out
run check --no-cache proj
expect_eq "interface edit: same as cold" "$new" "$out"
if printf '%s' "$new" | grep -q "E1121"; then
    fail "interface edit: E1121 should be gone (helper takes 3 now): $new"
else
    pass
fi

# a new function in lib.extra changes its interface: it, app.main and
# app.user re-check
printf '\n\ndef _private():\n    return 1\n' >>proj/lib/extra.py
run check --explain proj
expect_eq "extra edit: jobs" "$(counts)" "1 3"

# --- the stat index: a re-check reads only the files whose stat changed --------------
# index: "unchanged read" from the --explain line of $err
index() {
    printf '%s\n' "$err" | sed -n 's/^explain: \([0-9]*\) files unchanged since they were hashed.*, \([0-9]*\) read and hashed$/\1 \2/p'
}
nfiles=$(find proj -name '*.py' | wc -l)
# files changed less than 2 s before a run are read again (git's racy rule)
sleep 2.1
run check --explain proj
prev=$out
run check --explain proj
expect_eq "stat index: unchanged output" "$out" "$prev"
expect_eq "stat index: nothing read" "$(index)" "$nfiles 0"
expect_eq "stat index: jobs" "$(counts)" "0 0"
# the same size and the old modification time, written in place (same
# inode): only the change time tells, and it is enough
mtime=$(stat -c %y proj/lib/core.py)
sed 's/return b + a/return a - b/' proj/lib/core.py >"$tmp/core.py"
cat "$tmp/core.py" >proj/lib/core.py
touch -d "$mtime" proj/lib/core.py
run check --explain proj
expect_eq "stat index: ctime edit read" "$(index)" "$((nfiles - 1)) 1"
expect_eq "stat index: ctime edit jobs" "$(counts)" "1 1"
edited=$out
run check --no-cache proj
expect_eq "stat index: ctime edit same as cold" "$edited" "$out"
# a corrupt or hostile index is an empty one: everything is read, same output
sleep 2.1
for f in "$STRATA_CACHE_DIR"/stat/*; do printf 'garbage' >"$f"; done
run check --explain proj
expect_eq "stat index: corrupt: output" "$out" "$edited"
expect_eq "stat index: corrupt: all read" "$(index)" "0 $nfiles"
for f in "$STRATA_CACHE_DIR"/stat/*; do rm -f "$f" && mkfifo "$f"; done
run check --explain proj
expect_eq "stat index: fifo: output" "$out" "$edited"
run check --explain proj
expect_eq "stat index: rewritten after the fifo" "$(index)" "$nfiles 0"

# --- strata graph ----------------------------------------------------------------------
run graph --no-cache proj
expect_eq "graph: exit" "$rc" 0
if printf '%s' "$out" | python3 -c 'import json,sys; g=json.load(sys.stdin); assert any(len(c["modules"])==2 for c in g["components"])' 2>/dev/null; then
    pass
else
    fail "graph: JSON without the 2-module cycle: $out"
fi
run graph --no-cache --format dot proj
expect_eq "graph dot: exit" "$rc" 0
case $out in "digraph strata {"*) pass ;; *) fail "graph dot: $out" ;; esac
if printf '%s' "$out" | grep -q '"app.main" -> "lib.extra"'; then pass; else fail "graph dot: edge: $out"; fi
run graph --format text proj
expect_eq "graph bad format: exit" "$rc" 2

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
