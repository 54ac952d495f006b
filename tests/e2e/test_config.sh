#!/usr/bin/env bash
# test_config.sh - end-to-end tests of configuration files.
#
# Builds small trees with pyproject.toml ([tool.strata]), strata.toml and
# .strata.toml under a mktemp directory and runs the real binary: every
# key, which file wins in a directory, the closest file governing each file
# (a monorepo with two projects and per-file-ignores), --config,
# --isolated, flags winning over files, extend, `strata config`, `strata
# submit` reading the same files, the cache keys a change touches
# (--explain), and each bad configuration with its message and exit 2.
#
# Usage: bash test_config.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=config
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"

lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in: $2"; else pass; fi
}
expect_eq() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi
}
# counts: "scans checks" that ran, from the --explain summary line of $err
counts() {
    printf '%s\n' "$err" | sed -n 's/^explain: \([0-9]*\) scans ran, [0-9]* cached; \([0-9]*\) check jobs ran.*/\1 \2/p'
}

# ---- one project: select and ignore -------------------------------------------
mkdir -p p/pkg p/tests p/build
printf 'import os\n' >p/pkg/a.py
printf 'import sys\nx = undefined_name\n' >p/tests/test_a.py
printf 'import json\n' >p/build/gen.py
cat >p/pyproject.toml <<'EOF'
[project]
name = "p"

[tool.strata]
ignore = ["F401"]
EOF
cd p
expect "ignore from pyproject" 1 check --no-cache
lacks "F401 ignored" "$out" "F401"
has "F821 kept" "$out" "tests/test_a.py:2:5: F821"
expect "isolated reads nothing" 1 check --no-cache --isolated
has "isolated: F401 back" "$out" "pkg/a.py:1:1: F401"
expect "flag --select wins over the file" 1 check --no-cache --select F8
has "--select F8" "$out" "tests/test_a.py:2:5: F821"
expect "the file's ignore stays under --select" 0 check --no-cache --select F401

# [tool.ruff] is never read
cat >pyproject.toml <<'EOF'
[tool.ruff]
ignore = ["F401"]
EOF
expect "tool.ruff is not read" 1 check --no-cache
has "tool.ruff: F401 reported" "$out" "pkg/a.py:1:1: F401"

# select, extend-select, extend-ignore, per-file-ignores, exclude, extend-exclude
cat >strata.toml <<'EOF'
select = ["E9"]
extend-select = ["F8"]
extend-ignore = ["F811"]
per-file-ignores = { "tests/*" = ["F821"] }
exclude = ["build"]
extend-exclude = ["pkg/a.py"]
EOF
expect "strata.toml keys" 0 check --no-cache
expect_eq "per-file-ignores, exclude, extend-exclude, select" "$out" ""
has "excluded files are not checked" "$err" "(1 file checked)"
rm strata.toml
cat >strata.toml <<'EOF'
ignore = ["F821"]
EOF
cat >.strata.toml <<'EOF'
ignore = ["F401"]
EOF
expect ".strata.toml wins over strata.toml" 1 check --no-cache
has ".strata.toml: F821 reported" "$out" "F821"
lacks ".strata.toml: F401 ignored" "$out" "F401"
rm .strata.toml
expect "strata.toml wins over pyproject.toml" 1 check --no-cache
has "strata.toml: F401" "$out" "F401"
lacks "strata.toml: F821 ignored" "$out" "F821"
rm strata.toml pyproject.toml
cd "$tmp"

# ---- a monorepo: two projects, each its own configuration -----------------------
mkdir -p mono/svc/app mono/svc/tests mono/lib/src/lib mono/lib/tests mono/tools
printf 'import os\n' >mono/svc/app/main.py
printf 'import os\n' >mono/svc/tests/test_main.py
printf 'import os\nx = nope\n' >mono/lib/src/lib/core.py
printf 'x = nope\n' >mono/lib/tests/test_core.py
printf 'import os\n' >mono/tools/run.py
cat >mono/pyproject.toml <<'EOF'
[tool.strata]
select = ["F"]
EOF
cat >mono/svc/pyproject.toml <<'EOF'
[tool.strata]
per-file-ignores = { "tests/*.py" = ["F401"] }
EOF
cat >mono/lib/strata.toml <<'EOF'
ignore = ["F401"]
per-file-ignores = { "tests/**" = ["F8"] }
EOF
cat >mono/tools/pyproject.toml <<'EOF'
[project]
name = "tools: no [tool.strata], does not count"
EOF
expect "monorepo" 1 check --no-cache mono
has "svc: app F401" "$out" "mono/svc/app/main.py:1:1: F401"
lacks "svc: tests F401 ignored per file" "$out" "mono/svc/tests/test_main.py"
lacks "lib: F401 ignored" "$out" "mono/lib/src/lib/core.py:1:1: F401"
has "lib: F821 in src" "$out" "mono/lib/src/lib/core.py:2:5: F821"
lacks "lib: tests F821 ignored per file" "$out" "test_core.py"
has "tools: governed by the monorepo's file" "$out" "mono/tools/run.py:1:1: F401"
(cd mono/lib && "$strata" check --no-cache . >"$tmp/o" 2>/dev/null)
expect_eq "lib from inside" "$(cat "$tmp/o")" "./src/lib/core.py:2:5: F821 undefined name 'nope'"
expect "--config: one file for everything" 1 check --no-cache --config mono/lib/strata.toml mono
lacks "--config: svc's F401 ignored too" "$out" "F401"
has "--config: lib's tests F821 ignored, svc's not" "$out" "mono/lib/src/lib/core.py:2:5: F821"

# ---- strata config -------------------------------------------------------------
expect "strata config" 0 config mono/lib/tests/test_core.py
has "config: the file" "$out" "config-file        = \"$tmp/mono/lib/strata.toml\""
has "config: ignore and where" "$out" "ignore             = [\"F401\"]  # $tmp/mono/lib/strata.toml:1"
has "config: per-file-ignores" "$out" "per-file-ignores   = {\"tests/**\" = [\"F8\"]}  # $tmp/mono/lib/strata.toml:2"
has "config: default" "$out" "quiet              = false  # default"
expect "strata config with a flag" 0 config --select E9 --quiet mono/svc
has "config: --select" "$out" "select             = [\"E9\"]  # --select"
has "config: --quiet" "$out" "quiet              = true  # --quiet"
expect "strata config isolated" 0 config --isolated mono/svc
has "config isolated: none" "$out" "config-file        = none"
run help
has "strata help lists config" "$out" "  config "
expect "config with two paths" 2 config mono/svc mono/lib
has "config with two paths: message" "$err" "strata config: one PATH at most"
expect "config --help" 0 config --help
has "config usage" "$out" "usage: strata config"

# ---- every per-run key ---------------------------------------------------------
mkdir -p run/src/mod run/big
printf 'import os\n' >run/src/mod/__init__.py
printf 'from mod import nothing_here\n' >run/use.py
python3 -c "print('x = 1\n' * 400)" >run/big/big.py
cat >run/base.toml <<'EOF'
select = ["F", "E"]
jobs = 1
EOF
cat >run/strata.toml <<'EOF'
extend = "base.toml"
ignore = ["F401"]
src = ["src"]
target-version = "py311"
cache-dir = "mycache"
output-format = "json"
workers = 2
no-workers = true
durability = "strict"
job-timeout = 30
max-file-size = 1000
quiet = true
respect-gitignore = false
EOF
cd run
expect "every key" 1 check
has "output-format json" "$out" '"code": "E902"'
has "max-file-size: the big file is E902" "$out" '"filename": "./big/big.py"'
expect_eq "quiet: no summary" "$err" ""
if [ -d mycache ]; then pass; else fail "cache-dir: no ./mycache"; fi
expect "strata config: every key" 0 config
has "extend shown" "$out" "extend             = \"base.toml\"  # $tmp/run/strata.toml:1"
has "select from the base" "$out" "select             = [\"F\", \"E\"]  # $tmp/run/base.toml:1"
has "jobs from the base" "$out" "jobs               = 1  # $tmp/run/base.toml:2"
has "src" "$out" "src                = [\"$tmp/run/src\"]"
has "target-version" "$out" "target-version     = \"py311\""
has "cache-dir" "$out" "cache-dir          = \"$tmp/run/mycache\""
has "workers" "$out" "workers            = 2"
has "no-workers" "$out" "no-workers         = true"
has "durability" "$out" "durability         = \"strict\""
has "job-timeout" "$out" "job-timeout        = 30"
has "max-file-size" "$out" "max-file-size      = 1000"
has "respect-gitignore" "$out" "respect-gitignore  = false"
expect "relative --config" 0 config --config strata.toml
has "relative --config: src below its directory" "$out" "src                = [\"$tmp/run/src\"]  # strata.toml:3"
expect "flags win" 1 check --format text --max-file-size 100000 --durability memory
has "--format text wins" "$out" "./use.py:1:1: E0611"
lacks "--max-file-size wins: no E902" "$out" "E902"
# src: the import of mod resolves through src/ (E0611, not E0401)
lacks "src as root" "$out" "E0401"
cd "$tmp"

# ---- the cache keys a change touches ------------------------------------------
mkdir -p keys
printf 'import os\nimport sys\n' >keys/a.py
printf 'import a\n' >keys/b.py
printf 'ignore = ["F401"]\n' >keys/strata.toml
cd keys
# no environment: the counts are the project's own scans and checks
expect "keys: first run" 0 check --no-environment --explain
printf 'ignore = ["E9"]\n' >strata.toml
expect "keys: ignore changed" 1 check --no-environment --explain
expect_eq "changing ignore re-runs no scan and no check" "$(counts)" "0 0"
has "keys: F401 now reported" "$out" "a.py:1:1: F401"
printf 'ignore = ["E9"]\nmax-file-size = 100000\n' >strata.toml
expect "keys: max-file-size changed" 1 check --no-environment --explain
case "$(counts)" in 2\ *) pass ;; *) fail "max-file-size re-runs the scans: $(counts)" ;; esac
cd "$tmp"

# ---- bad configurations --------------------------------------------------------
mkdir -p bad
printf 'x = 1\n' >bad/m.py
bad() { # bad NAME FILE-CONTENT MESSAGE
    printf '%s' "$2" >bad/strata.toml
    expect "$1: exit 2" 2 check --no-cache bad
    has "$1: message" "$err" "$3"
}
bad "syntax error" $'select = ["F"]\nignore = [\n' "$tmp/bad/strata.toml:2:10: syntax error"
bad "bad escape" $'select = ["F"]\ncache-dir = "a\\qb"\n' "$tmp/bad/strata.toml:2:"
bad "duplicate key" $'jobs = 1\njobs = 2\n' "$tmp/bad/strata.toml:2:1: duplicate key 'jobs'"
bad "unknown key" $'\n  selct = ["F"]\n' "$tmp/bad/strata.toml:2:3: unknown key 'selct'"
bad "bad code" $'select = ["F", "f4"]\n' "$tmp/bad/strata.toml:1:16: invalid rule code 'f4'"
bad "bad kind" $'select = "F"\n' "$tmp/bad/strata.toml:1:10: expected an array of rule codes"
bad "bad jobs" $'jobs = 5000\n' "$tmp/bad/strata.toml:1:8: invalid value '5000' for jobs"
bad "bad durability" $'durability = "sometimes"\n' \
    "$tmp/bad/strata.toml:1:14: invalid value 'sometimes' for durability"
bad "bad output-format" $'output-format = "xml"\n' \
    "$tmp/bad/strata.toml:1:17: invalid value 'xml' for output-format"
bad "bad bool" $'quiet = "yes"\n' "$tmp/bad/strata.toml:1:9: invalid value for 'quiet': expected true or false"
bad "bad target-version" $'target-version = "py27"\n' \
    "invalid value 'py27' for 'target-version'"
bad "extend missing" $'extend = "nope.toml"\n' "$tmp/bad/strata.toml:1:10: extend: cannot read 'nope.toml'"
printf 'extend = "strata.toml"\n' >bad/base.toml
bad "extend cycle" $'extend = "base.toml"\n' "extend: a cycle"
rm bad/base.toml
printf '[tool.strata]\nselect = [\n' >bad/pyproject.toml
printf 'select = ["F"]\n' >bad/strata.toml
expect "pyproject is not read when strata.toml is there" 0 check --no-cache bad
rm bad/strata.toml
expect "bad pyproject" 2 check --no-cache bad
has "bad pyproject: message" "$err" "$tmp/bad/pyproject.toml:2:10: syntax error"
rm bad/pyproject.toml
expect "--config missing" 2 check --config nope.toml bad
has "--config missing: message" "$err" "nope.toml"
expect "--config with --isolated" 2 check --config x.toml --isolated bad
# one run, one target version
mkdir -p tv/a tv/b
printf 'x = 1\n' >tv/a/m.py
printf 'x = 1\n' >tv/b/m.py
printf 'target-version = "py311"\n' >tv/a/strata.toml
printf 'target-version = "py312"\n' >tv/b/strata.toml
expect "two target versions" 2 check --no-cache tv
has "two target versions: message" "$err" \
    "target-version 'py312' differs from 'py311' set in $tmp/tv/a/strata.toml:1"
printf 'target-version = "py311"\n' >tv/b/strata.toml
expect "one target version twice" 0 check --no-cache tv

# ---- a bad configuration below the project stops the run before it starts ------
# (the environment, found meanwhile from the top configuration's strings,
# is stopped before those strings are freed)
mkdir -p badnest/sub
printf '[tool.strata]\npython = "/nowhere/bin/python"\ntarget-version = "py311"\n' \
    >badnest/pyproject.toml
printf 'x = 1\n' >badnest/a.py
printf 'y = 2\n' >badnest/sub/b.py
printf '[tool.strata]\nselect = [1\n' >badnest/sub/pyproject.toml
expect "bad nested configuration" 2 check --no-cache badnest
has "bad nested configuration: named" "$err" "sub/pyproject.toml"
lacks "bad nested configuration: no crash" "$err" "AddressSanitizer"

# ---- a linked directory is governed by the files above its target ------------
# (directories are resolved through their parents' answers; a link is not)
cd "$tmp"
mkdir -p ln/proj/pkg ln/other/pkg
printf 'import os\n' >ln/proj/top.py
printf 'import os\n' >ln/proj/pkg/a.py
printf 'import os\n' >ln/other/pkg/b.py
printf 'ignore = ["F401"]\n' >ln/proj/strata.toml
printf 'select = ["F"]\n' >ln/other/strata.toml
ln -s ../other/pkg ln/proj/linked
expect "a linked directory" 1 check --no-cache ln/proj/top.py ln/proj/pkg/a.py ln/proj/linked/b.py
lacks "the project's own files: F401 ignored" "$out" "a.py"
has "the link's target: its own configuration" "$out" "ln/proj/linked/b.py:1:1: F401"

# ---- strata submit reads the same configuration ---------------------------------
addr="ipc://$tmp/coord.sock"
"$strata" coordinator --bind "$addr" --cache-dir "$tmp/ccache" 2>"$tmp/coord.log" &
coord=$!
for _ in $(seq 100); do grep -q "clients on" "$tmp/coord.log" 2>/dev/null && break; sleep 0.1; done
(cd mono && timeout 60 "$strata" check --no-cache . >"$tmp/check.out" 2>/dev/null)
(cd mono && timeout 60 "$strata" submit --coordinator "$addr" . >"$tmp/submit.out" 2>/dev/null)
expect_eq "submit: same output as check" "$(cat "$tmp/submit.out")" "$(cat "$tmp/check.out")"
has "submit: per-file-ignores applied" "$(cat "$tmp/submit.out")" "./svc/app/main.py:1:1: F401"
lacks "submit: per-file-ignores applied (tests)" "$(cat "$tmp/submit.out")" "test_main.py"
kill "$coord" 2>/dev/null
wait "$coord" 2>/dev/null

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
