#!/usr/bin/env bash
# test_environment.sh - end-to-end checks of a project against a real
# Python environment: a virtual environment of Debian's /usr/bin/python3
# (venv --without-pip: no network) whose site-packages holds packages made
# here. The standard library comes from the stubs installed with strata.
#
# What it checks: attributes, names and calls of the standard library and
# of installed packages (E1101, E0611, E1121, E1123), E0401 naming the
# interpreter for a package it lacks, nothing for what is open (an
# extension module, a module another one replaces in sys.modules), the
# cache made stale by a package upgrade; and bad input never crashing or
# hanging: a stub that does not parse, a site-packages with a symlink
# loop, a package shadowing a standard name, a --python that does not
# work, a .venv whose interpreter is broken.
#
# Usage: bash test_environment.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=environment
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"
unset VIRTUAL_ENV STRATA_TYPESHED

lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in: $2"; else pass; fi
}

py=/usr/bin/python3
if [ ! -x "$py" ] || ! "$py" -m venv --help >/dev/null 2>&1; then
    echo "test_environment: no $py with venv, skipped"
    echo "0 passed, 0 failed"
    exit 0
fi

"$py" -m venv --without-pip "$tmp/venv" || {
    fail "venv"
    exit 1
}
site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$site/pkg" "$site/bad-stubs" "$site/json"
printf 'def f(a, b):\n    return a\n\nVALUE = 1\n' >"$site/pkg/__init__.py"
printf 'def broken(:\n' >"$site/bad-stubs/__init__.pyi"
printf 'x = 1\n' >"$site/bad.py"
printf '\x7fELF' >"$site/fast.cpython-311-x86_64-linux-gnu.so"
printf 'shadow = 1\n' >"$site/json/__init__.py"
ln -s . "$site/loop"

mkdir -p proj
cat >proj/app.py <<'EOF'
import os
import json
import socket
import pkg
import bad
import fast
import loop.loop.loop
import notinstalled
from collections import OrderDict
os.path.joinx("a")
json.dumps({}, 2)
socket.AF_INETT
pkg.f(1, 2, 3)
pkg.nope
pkg.f(1, c=2)
bad.anything
fast.anything
print(os.getcwd(), json.loads("1"), pkg.VALUE, OrderDict)
import reactor_user
EOF
printf 'import sys\n\nclass R:\n    pass\n\nsys.modules["reactor_user"] = R()\n' >proj/install.py

run check --no-cache --python "$tmp/venv" proj
expect_rc=$rc
has "stdlib attribute" "$out" "app.py:10:1: E1101 Module 'os.path' has no 'joinx' member"
has "stdlib call" "$out" "app.py:11:1: E1121 Too many positional arguments"
has "C module attribute" "$out" "app.py:12:1: E1101 Module 'socket' has no 'AF_INETT' member"
has "stdlib name" "$out" "app.py:9:1: E0611 No name 'OrderDict' in module 'collections'"
has "package call" "$out" "app.py:13:1: E1121 Too many positional arguments"
has "package attribute" "$out" "app.py:14:1: E1101 Module 'pkg' has no 'nope' member"
has "package keyword" "$out" "app.py:15:1: E1123 Unexpected keyword argument 'c'"
has "missing package names the interpreter" "$out" \
    "app.py:8:1: E0401 Unable to import 'notinstalled' (not installed for $tmp/venv"
lacks "a stub that does not parse: unknown" "$out" "app.py:16:1: E"
lacks "an extension module: open" "$out" "app.py:17:1: E"
lacks "a module replaced in sys.modules: open" "$out" "E0401 Unable to import 'reactor_user"
lacks "a symlink loop: found, no hang" "$out" "app.py:7:1: E"
lacks "the stdlib's json, not the shadow" "$out" "app.py:18:1: E"
lacks "library files never reported" "$out" "$site"
if [ "$expect_rc" -eq 1 ]; then pass; else fail "exit $expect_rc, want 1: $err"; fi

# the cache: an unchanged re-check comes whole from it; an upgrade of the
# package (its file changes) makes it stale
run check --python "$tmp/venv" --explain proj
run check --python "$tmp/venv" --explain proj
has "unchanged: whole from the cache" "$err" "every check result came from the cache in one piece"
printf 'def f(a, b, c=0):\n    return a\n\nVALUE = 1\nnope = 2\n' >"$site/pkg/__init__.py"
run check --python "$tmp/venv" --explain proj
lacks "upgraded: stale" "$err" "in one piece"
lacks "upgraded: nope exists now" "$out" "has no 'nope' member"
lacks "upgraded: c is a parameter now" "$out" "keyword argument 'c'"
has "upgraded: the rest stays" "$out" "has no 'joinx' member"

# a library file rewritten with its size and modification time kept (cp -p,
# rsync -t, an archive extracted over it): its change time tells, and an
# unchanged re-check does not serve the old results
sleep 2.1 # stamps younger than 2 s are not recorded (git's racy rule)
run check --python "$tmp/venv" proj
run check --python "$tmp/venv" --explain proj
has "stamped: whole from the cache" "$err" "in one piece"
mtime=$(stat -c %y "$site/pkg/__init__.py")
sed 's/nope = 2/nopf = 2/' "$site/pkg/__init__.py" >"$tmp/pkg_init.py"
cat "$tmp/pkg_init.py" >"$site/pkg/__init__.py"
touch -d "$mtime" "$site/pkg/__init__.py"
run check --python "$tmp/venv" proj
has "same size and mtime: the change is seen" "$out" "Module 'pkg' has no 'nope' member"

# the whole-run hint (the key this invocation's last run used, read ahead
# while the files are walked) is only a guess: one that names another run's
# record, garbage, or a directory in its place give what no hint gives
mkdir -p hinted
printf 'import os\nos.path.joinx("a")\n' >hinted/a.py
run check --python "$tmp/venv" hinted
hint=$(ls -t "$STRATA_CACHE_DIR"/stat/whole-* 2>/dev/null | head -n 1)
if [ -n "$hint" ] && [ -f "$hint" ]; then pass; else fail "no whole-run hint written"; fi
old_hint=$(cat "$hint")
printf 'import os\nos.path.joinx("a")\nos.nope\n' >hinted/a.py
run check --python "$tmp/venv" hinted
want=$out
has "hinted: the edit is seen" "$want" "has no 'nope' member"
if [ "$(cat "$hint")" != "$old_hint" ]; then pass; else fail "hint not moved to the new run"; fi
run check --python "$tmp/venv" --explain hinted
has "hinted: read ahead" "$err" "in one piece: the project's inputs are unchanged; read ahead"
if [ "$out" = "$want" ]; then pass; else fail "read ahead: $out"; fi
printf '%s\n' "$old_hint" >"$hint" # the record of the file before the edit
run check --python "$tmp/venv" --explain hinted
if [ "$out" = "$want" ]; then pass; else fail "hint naming another record: $out"; fi
has "hint naming another record: the run's own" "$err" "in one piece: the project's inputs are unchanged)"
printf 'garbage' >"$hint"
run check --python "$tmp/venv" hinted
if [ "$out" = "$want" ] && [ "$rc" -eq 1 ]; then pass; else fail "garbage hint: $rc $out $err"; fi
rm -f "$hint"
mkdir "$hint"
run check --python "$tmp/venv" hinted
if [ "$out" = "$want" ] && [ "$rc" -eq 1 ]; then pass; else fail "directory as hint: $rc $out $err"; fi
rmdir "$hint"

# a second project with its own cache does not scan the library files the
# first one read: they come from the user's shared cache, and its output
# is the same as with no cache at all
mkdir -p second
cp proj/app.py second/app.py
run check --python "$tmp/venv" --cache-dir "$tmp/second-cache" --explain second
has "second project: library scans shared" "$err" "scans came from the shared cache"
second_out=$out
ran=$(printf '%s\n' "$err" | sed -n 's/^explain: \([0-9]*\) scans ran.*/\1/p')
if [ "$ran" = 1 ]; then pass; else fail "second project: $ran scans ran, want 1 (app.py): $err"; fi
run check --python "$tmp/venv" --no-cache second
if [ "$out" = "$second_out" ]; then pass; else
    fail "second project: shared-cache output differs from --no-cache: $second_out / $out"
fi
# a shared cache that cannot be opened is a warning; the check goes on
printf 'not a directory' >"$tmp/not-a-dir"
STRATA_SHARED_CACHE_DIR="$tmp/not-a-dir/x" run check --python "$tmp/venv" \
    --cache-dir "$tmp/third-cache" second
has "shared cache unusable: a warning" "$err" "not-a-dir/x"
if [ "$out" = "$second_out" ]; then pass; else fail "shared cache unusable: output: $out"; fi
# empty: none
STRATA_SHARED_CACHE_DIR= run check --python "$tmp/venv" --cache-dir "$tmp/fourth-cache" \
    --explain second
lacks "shared cache off: nothing from it" "$err" "shared cache"

# a --python that does not work is an error; a broken .venv is a warning
expect "--python /bin/false" 2 check --no-cache --python /bin/false proj
has "--python names it" "$err" "/bin/false"
mkdir -p proj2/.venv/bin
printf '#!/bin/sh\nexit 3\n' >proj2/.venv/bin/python
chmod +x proj2/.venv/bin/python
printf 'import os\nos.nope\n' >proj2/a.py
run check --no-cache proj2
has "broken .venv: a warning" "$err" "warning"
has "broken .venv: the stubs still serve" "$out" "has no 'nope' member"

# no environment at all: as before
run check --no-cache --no-environment proj
lacks "--no-environment: no stdlib report" "$out" "joinx"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
