#!/usr/bin/env bash
# test_env.sh - end-to-end tests of `strata env` with real interpreters.
#
# Runs the binary against Debian's /usr/bin/python3, the python3 first on
# PATH (a pyenv shim on some machines), and virtual environments made
# under a mktemp directory (venv --without-pip: no network): how each is
# found (--python, a venv's directory, $VIRTUAL_ENV, .venv, the
# configuration's python), the search path each directory's kind, .pth
# additions, import hooks (an editable install's finder, an unknown one),
# the overrides, the stubs, and broken interpreters. Expectations come
# from the interpreter itself (its sys.path), never from this machine's
# paths written out.
#
# Usage: bash test_env.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=env
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"
unset VIRTUAL_ENV STRATA_TYPESHED

lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in: $2"; else pass; fi
}
# jget EXPR: evaluates a Python expression over the JSON document in $out (d)
jget() {
    printf '%s' "$out" | /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}
expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}

py=/usr/bin/python3
if [ ! -x "$py" ]; then
    echo "test_env: no $py, skipped"
    exit 0
fi

# ---- Debian's interpreter ----------------------------------------------------
expect "env --python" 0 env --isolated --python "$py"
has "target" "$out" "target:       Python $($py -c 'import sys; print("%d.%d" % sys.version_info[:2])') on linux"
has "how found" "$out" "interpreter:  $py (--python)"
has "stdlib" "$out" "standard library sources"
has "stubs" "$out" "share/strata/typeshed/stdlib (typeshed "
# every directory of its sys.path (after site) is listed
for d in $($py -c 'import sys, os; print("\n".join(p for p in sys.path if p and os.path.isdir(p)))'); do
    has "sys.path $d" "$out" "  $d "
done

expect "env --format json" 0 env --isolated --python "$py" --format json
expect_eq "json keys" "$(jget 'sorted(d)')" "['hooks', 'interpreter', 'search_path', 'stubs', 'target']"
expect_eq "target keys" "$(jget 'sorted(d["target"])')" \
    "['platform', 'platform_from', 'version', 'version_from']"
expect_eq "interpreter keys" "$(jget 'sorted(d["interpreter"])')" \
    "['cached', 'found', 'found_by', 'path', 'prefix', 'problem', 'real_path', 'stdlib', 'venv']"
expect_eq "found" "$(jget 'd["interpreter"]["found"], d["interpreter"]["found_by"]')" "True flag"
expect_eq "version from" "$(jget 'd["target"]["version"], d["target"]["version_from"]')" \
    "$($py -c 'import sys; print("%d.%d" % sys.version_info[:2])') interpreter"
expect_eq "real path" "$(jget 'd["interpreter"]["real_path"]')" "$(realpath "$py")"
expect_eq "search path = sys.path" \
    "$(jget '[e["path"] for e in d["search_path"]]')" \
    "$($py -c 'import sys, os; print([p for p in sys.path if p and os.path.isdir(p)])')"
expect_eq "dist-packages kind" \
    "$(jget 'sorted(set(e["kind"] for e in d["search_path"] if "-packages" in e["path"]))')" \
    "['site-packages']"
expect_eq "stubs" "$(jget 'd["stubs"]["modules"] > 200, len(d["stubs"]["typeshed_commit"])')" "True 40"
jget 'd["stubs"]["path"]' >"$tmp/stubs"
if [ -f "$(cat "$tmp/stubs")/VERSIONS" ]; then pass; else fail "stubs: no VERSIONS"; fi

# ---- the python3 on PATH (a pyenv shim here, Debian's elsewhere) ------------------
mkdir plain && cd plain
expect "env finds python3 on PATH" 0 env --isolated --format json
expect_eq "PATH: found" "$(jget 'd["interpreter"]["found"], d["interpreter"]["found_by"]')" "True path"
expect_eq "PATH: its version" "$(jget 'd["target"]["version"]')" \
    "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
expect_eq "PATH: its sys.path" "$(jget '[e["path"] for e in d["search_path"]]')" \
    "$(python3 -I -c 'import sys, os; print([p for p in sys.path if p and os.path.isdir(p)])')"
cd ..

# ---- virtual environments ----------------------------------------------------------
$py -m venv --without-pip v >/dev/null 2>&1 || fail "venv could not be made"
site=$(v/bin/python -c 'import site; print(site.getsitepackages()[0])')
mkdir -p extra src/foo
printf '%s/extra\n' "$tmp" >"$site/extra.pth"
cat >"$site/__editable___foo_1_0_finder.py" <<'EOF'
import sys
MAPPING = {'foo': '/nowhere/src/foo', 'foo_cli': '/nowhere/src/foo_cli.py'}
NAMESPACES = {}
class _EditableFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        return None
def install():
    if not any(f == _EditableFinder for f in sys.meta_path):
        sys.meta_path.append(_EditableFinder)
EOF
printf 'import __editable___foo_1_0_finder; __editable___foo_1_0_finder.install()\n' \
    >"$site/__editable__.foo-1.0.pth"
expect "env --python VENV_DIR" 0 env --isolated --python v --format json
expect_eq "venv: found" "$(jget 'd["interpreter"]["venv"], d["interpreter"]["path"].endswith("/v/bin/python")')" "True True"
expect_eq "venv: kinds" "$(jget '[e["kind"] for e in d["search_path"]][-2:]')" "['venv', 'pth']"
expect_eq "venv: .pth dir" "$(jget 'd["search_path"][-1]["path"]')" "$tmp/extra"
expect_eq "editable hook" "$(jget 'd["hooks"]["names"], d["hooks"]["unknown"]')" "['foo', 'foo_cli'] False"

# an import hook nobody knows: any name may be served
printf 'import sys\nclass Magic:\n    def find_spec(self, n, p=None, t=None):\n        return None\nsys.meta_path.append(Magic())\n' >"$site/magic_hook.py"
printf 'import magic_hook\n' >"$site/magic.pth"
expect "unknown hook" 0 env --isolated --python v
has "unknown hook: named" "$out" "magic_hook.Magic"
has "unknown hook: said" "$out" "a hook may serve any name"
rm "$site/magic.pth"

VIRTUAL_ENV="$tmp/v" run env --isolated --format json
expect_eq "VIRTUAL_ENV" "$(jget 'd["interpreter"]["found_by"]')" "virtual_env"
mkdir proj && ln -s ../v proj/.venv && printf 'x = 1\n' >proj/m.py
(cd proj && "$strata" env --isolated --format json) >"$tmp/.out" 2>"$tmp/.err"
out=$(cat "$tmp/.out")
expect_eq ".venv in the project" "$(jget 'd["interpreter"]["found_by"]')" "project_venv"
run env --isolated --format json proj/m.py
expect_eq ".venv of a file's project" "$(jget 'd["interpreter"]["found_by"]')" "project_venv"

# the configuration's python, relative to its file
mkdir conf && printf 'python = "../v"\npython-platform = "win32"\n' >conf/strata.toml
run env --format json conf
expect_eq "config python" "$(jget 'd["interpreter"]["found_by"], d["target"]["platform"], d["target"]["platform_from"]')" "config win32 config"
run config conf
has "strata config: python" "$out" "python             = \"$tmp/conf/../v\""

# ---- overrides -------------------------------------------------------------------------
expect "overrides" 0 env --isolated --python "$py" --python-version 3.10 --python-platform darwin
has "override target" "$out" "target:       Python 3.10 on darwin"
has "override from" "$out" "  version:    --python-version"
expect "bad version" 2 env --python-version 3
has "bad version message" "$err" "invalid value '3' for --python-version"
expect "bad platform" 2 env --python-platform 'win 32'
expect "bad format" 2 env --format sarif

# ---- broken interpreters -----------------------------------------------------------------
expect "missing --python" 2 env --isolated --python "$tmp/nothing"
has "missing message" "$err" "strata env: --python $tmp/nothing: No such file or directory"
printf '#!/bin/sh\necho "Traceback: boom" >&2\nexit 1\n' >bad && chmod +x bad
expect "failing --python" 2 env --isolated --python ./bad
has "failing message" "$err" "exited 1: Traceback: boom"
printf '#!/bin/sh\necho hello\n' >garbage && chmod +x garbage
expect "garbage --python" 2 env --isolated --python ./garbage
has "garbage message" "$err" "not a Python interpreter's answer: 'hello'"
expect "directory --python" 2 env --isolated --python "$tmp/plain"
mkdir -p broken/.venv/bin && cp garbage broken/.venv/bin/python
(cd broken && "$strata" env --isolated) >"$tmp/.out" 2>"$tmp/.err"
rc=$?
expect_eq "a found broken interpreter is not an error" "$rc" 0
has "not used" "$(cat "$tmp/.out")" "  not used:   $tmp/broken/.venv/bin/python: not a Python interpreter's answer"
has "no search path" "$(cat "$tmp/.out")" "search path:  none"

# ---- the stubs ------------------------------------------------------------------------------
STRATA_TYPESHED="$tmp/nothing" run env --isolated --python "$py"
expect_eq "bad STRATA_TYPESHED" "$rc" 2
has "bad STRATA_TYPESHED message" "$err" "STRATA_TYPESHED=$tmp/nothing: no stdlib/VERSIONS there"
mkdir -p ts/stdlib && printf 'os: 3.0-\nasyncore: 3.0-3.11\n' >ts/stdlib/VERSIONS
STRATA_TYPESHED="$tmp/ts" run env --isolated --python "$py" --python-version 3.12
has "STRATA_TYPESHED" "$out" "stubs:        $tmp/ts/stdlib ("
has "VERSIONS for 3.12" "$out" "1 modules for 3.12"

# ---- help ---------------------------------------------------------------------------------------
expect "help lists env" 0 help
has "help env" "$out" "  env "
expect "help env" 0 help env
has "env usage" "$out" "usage: strata env"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
