#!/usr/bin/env bash
# test_files.sh - which files a check reads and which it reports.
#
# On trees built under a mktemp directory: git's ignore rules (.gitignore at
# every level, .git/info/exclude, the global excludes of $HOME's git
# configuration and of $XDG_CONFIG_HOME/git/ignore) with --respect-gitignore
# and --no-respect-gitignore; files named explicitly are checked even when
# ignored; --show-files; named files reported while the project's unnamed
# modules resolve their imports (no false E0401/E0611, real errors kept,
# unnamed files' diagnostics never printed), for files, directories and
# --root, cold and from the cache; standard input with and without
# --stdin-filename, and its usage errors.
#
# Usage: bash test_files.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=files
. "$(dirname "$0")/lib.sh" "$@"

# ok NAME COMMAND...: passes when COMMAND succeeds.
ok() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name (rc=${rc:-}, out: ${out:-}, err: ${err:-})"; fi
}
# holds TEXT PATTERN / lacks_text TEXT PATTERN: fixed-string search.
holds() { printf '%s\n' "$1" | grep -qF -- "$2"; }
lacks_text() { ! holds "$@"; }

# A home of our own: no global git configuration of this machine applies.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1

# ---- git's ignore rules --------------------------------------------------
mkdir -p repo && cd repo || exit 2
git init -q .
mkdir -p build pkg/gen sub local glob
echo 'import os' >build/b.py
echo 'import os' >pkg/gen/g.py
echo 'import os' >pkg/ok.py
echo 'import os' >pkg/x_gen.py
echo 'import os' >sub/s.py
echo 'import os' >local/l.py
echo 'import os' >glob/home.py
echo 'import os' >top.py
printf 'build/\n*_gen.py\n' >.gitignore
printf 'gen/\n' >pkg/.gitignore
printf 'local/\n' >.git/info/exclude

run check --no-cache --show-files
ok "show-files exits 0" test "$rc" -eq 0
ok "show-files: sorted, ignored files left out" test "$out" == "$(printf './glob/home.py\n./pkg/ok.py\n./sub/s.py\n./top.py')"
ok "show-files prints nothing on stderr" test -z "$err"

run check --no-cache --show-files --no-respect-gitignore
ok "--no-respect-gitignore lists ignored files" \
    test "$(printf '%s\n' "$out" | wc -l)" -eq 8

run check --no-cache --show-files --no-respect-gitignore --respect-gitignore
ok "--respect-gitignore after --no-: on again" test "$(printf '%s\n' "$out" | wc -l)" -eq 4

run check --no-cache -q .
ok "check . exits 1" test "$rc" -eq 1
ok "ignored file not checked (.gitignore dir pattern)" lacks_text "$out" build/b.py
ok "ignored file not checked (glob)" lacks_text "$out" x_gen.py
ok "ignored file not checked (nested .gitignore)" lacks_text "$out" pkg/gen/g.py
ok "ignored file not checked (info/exclude)" lacks_text "$out" local/l.py
ok "kept file checked" holds "$out" "./pkg/ok.py:1:1: F401"

run check --no-cache -q build/b.py pkg/x_gen.py
ok "named ignored files are checked" holds "$out" "build/b.py:1:1: F401"
ok "named ignored files are checked (2)" holds "$out" "pkg/x_gen.py:1:1: F401"
run check --no-cache -q build
ok "a named ignored directory is checked" holds "$out" "build/b.py:1:1: F401"

run check --no-cache --show-files pkg
ok "the rules of the top apply below it" test "$out" == "pkg/ok.py"

git add -f pkg/x_gen.py
run check --no-cache --show-files
ok "a tracked file is never ignored (as for git)" holds "$out" ./pkg/x_gen.py
git rm -q --cached pkg/x_gen.py

# global excludes: core.excludesFile, else $XDG_CONFIG_HOME/git/ignore
mkdir -p "$XDG_CONFIG_HOME/git"
echo 'sub/' >"$XDG_CONFIG_HOME/git/ignore"
run check --no-cache --show-files
ok "XDG global excludes" lacks_text "$out" sub/s.py
printf '[core]\n\texcludesFile = %s/home/global-ignore\n' "$tmp" >"$HOME/.gitconfig"
echo 'glob/' >"$HOME/global-ignore"
run check --no-cache --show-files
ok "core.excludesFile" lacks_text "$out" glob/home.py
rm -f "$HOME/.gitconfig" "$XDG_CONFIG_HOME/git/ignore"

# an ignored module still exists for imports: generated code, builds in place
mkdir -p gpkg && touch gpkg/__init__.py gpkg/_speed.cpython-311-x86_64-linux-gnu.so
printf '__version__ = "1"\n' >gpkg/_version.py
printf 'from gpkg._version import __version__\nfrom gpkg import _speed\nprint(__version__, _speed)\n' >gpkg/main.py
printf '_version.py\n*.so\n' >gpkg/.gitignore
run check --no-cache gpkg
ok "ignored modules resolve: no E0401" test "$rc" -eq 0
ok "... and are not checked" lacks_text "$out" _version.py
run check --no-cache gpkg/main.py
ok "... from a named file too" test "$rc" -eq 0
run check --no-cache --show-files --exclude top.py
ok "show-files applies --exclude" lacks_text "$out" top.py
cd "$tmp" || exit 2

# outside any repository a .gitignore means nothing
mkdir -p norepo && printf '*.py\n' >norepo/.gitignore && echo 'x = 1' >norepo/a.py
run check --no-cache --show-files norepo
ok "outside a repository nothing changes" test "$out" == "norepo/a.py"

# ---- named files are reported, the project is read ----------------------
mkdir -p proj/pkg/sub
cd proj || exit 2
touch pkg/__init__.py pkg/sub/__init__.py
cat >pkg/a.py <<'PY'
import pkg.b
from pkg.b import x
from . import b
from .sub import deep
from pkg.b import nope
print(pkg.b.x, x, b, deep, nope)
PY
printf 'import os\nx = 1\n' >pkg/b.py
printf 'import sys\n' >pkg/sub/deep.py
printf 'from pkg.b import x\nprint(x)\n' >pkg/sub/user.py

for cache in --no-cache "--cache-dir $tmp/cache" "--cache-dir $tmp/cache"; do
    # shellcheck disable=SC2086
    run check $cache pkg/a.py
    ok "named file ($cache): exit 1" test "$rc" -eq 1
    ok "named file ($cache): the real error" \
        holds "$out" "pkg/a.py:5:1: E0611 No name 'nope' in module 'pkg.b'"
    ok "named file ($cache): no false E0401" lacks_text "$out" E0401
    ok "named file ($cache): one diagnostic" test "$(printf '%s\n' "$out" | wc -l)" -eq 1
    ok "named file ($cache): unnamed files never printed" lacks_text "$out" pkg/b.py
    ok "named file ($cache): counts the named file only" holds "$err" "(1 file checked"
done
run check --no-cache pkg/sub/user.py
ok "a module two packages down resolves" test "$rc" -eq 0
ok "... and prints nothing" test -z "$out"
run check --no-cache pkg/sub
ok "a directory names everything below it" holds "$out" "pkg/sub/deep.py:1:1: F401"
ok "... and nothing else" lacks_text "$out" pkg/b.py
ok "... its imports resolve" lacks_text "$out" E0
run check --no-cache .
ok "everything named: every file reported" holds "$out" "./pkg/b.py:1:1: F401"
# context that no named file imports is read, but its check jobs do not run
printf 'import pkg.a\n' >pkg/top.py
run check --no-cache --no-environment --explain pkg/b.py
ok "only the named file's job and those below it run" holds "$err" "1 check jobs ran"
run check --no-cache --no-environment --explain pkg/a.py
ok "... the importer's and the 4 it reads, not the 2 above" holds "$err" "5 check jobs ran"
rm pkg/top.py
cd "$tmp" || exit 2
run check --no-cache proj/pkg/a.py
ok "from another directory: the same" test "$out" == "proj/pkg/a.py:5:1: E0611 No name 'nope' in module 'pkg.b'"
run check --no-cache --root proj proj/pkg/sub/user.py
ok "--root: the project under it is read" test "$rc" -eq 0
run check --no-cache --exclude b.py proj/pkg/a.py
ok "an excluded module is not read" holds "$out" "E0401 Unable to import 'pkg.b'"

# ---- standard input ------------------------------------------------------
cd proj || exit 2
run check --no-cache - --stdin-filename pkg/a.py <pkg/a.py
ok "stdin as a file of the project" test "$out" == "pkg/a.py:5:1: E0611 No name 'nope' in module 'pkg.b'"
printf 'from pkg.b import x\nfrom pkg.b import gone\nprint(x, gone)\n' >"$tmp/edited.py"
run check --no-cache - --stdin-filename pkg/a.py <"$tmp/edited.py"
ok "stdin's content, not the file's" test "$out" == "pkg/a.py:2:1: E0611 No name 'gone' in module 'pkg.b'"
run check --no-cache --stdin-filename pkg/new.py <"$tmp/edited.py"
ok "--stdin-filename alone reads stdin; the name need not exist" \
    holds "$out" "pkg/new.py:2:1: E0611"
run check --no-cache - <<<'import os'
ok "'-' alone is checked as '-'" test "$out" == "-:1:1: F401 'os' imported but unused"
run check --no-cache - <<<'x = 1'
ok "clean stdin: exit 0" test "$rc" -eq 0
run check --no-cache --max-file-size 4 - <<<'import os'
ok "stdin over --max-file-size: E902" holds "$out" "-:1:1: E902"
run check --no-cache - pkg/a.py <<<'x'
ok "'-' with another PATH: exit 2" test "$rc" -eq 2
ok "... says why" holds "$err" "standard input ('-') is checked alone"
run check --no-cache --stdin-filename pkg/a.py pkg/b.py <<<'x'
ok "--stdin-filename with a PATH: exit 2" test "$rc" -eq 2
run check --no-cache --stdin-filename ''
ok "empty --stdin-filename: exit 2" test "$rc" -eq 2
run check --show-files - --stdin-filename pkg/a.py <<<'x'
ok "show-files with stdin names it" test "$out" == "pkg/a.py"
cd "$tmp" || exit 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
