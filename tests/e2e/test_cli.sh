#!/usr/bin/env bash
# test_cli.sh - end-to-end tests of `strata check` and the command dispatch.
#
# Runs the real binary on small trees built under a mktemp directory: exit
# statuses (0 clean, 1 diagnostics, 2 usage/internal error), every flag in
# its forms and its bad values, rule prefixes, excludes, what the walk skips,
# symlink loops, unreadable and missing paths, output order, JSON validity
# (python3 -m json.tool) and identical output whatever --jobs is.
#
# Usage: bash test_cli.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=cli
. "$(dirname "$0")/lib.sh" "$@"

# expect NAME WANT_RC ARGS...: runs strata and checks the exit status.
# has NAME TEXT PATTERN: TEXT contains the fixed string PATTERN.
# lacks NAME TEXT PATTERN: TEXT does not contain PATTERN.
lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: unexpected '$3' in: $2"; else pass; fi
}

# same NAME A B: two strings are equal.
same() {
    if [ "$2" == "$3" ]; then pass; else fail "$1: '$2' != '$3'"; fi
}

json_ok() {
    if printf '%s' "$2" | python3 -m json.tool >/dev/null 2>&1; then pass; else
        fail "$1: invalid JSON: $2"
    fi
}

# --- fixtures ----------------------------------------------------------------

mkdir -p proj/pkg/sub proj/pkg/.hidden proj/pkg/__pycache__ proj/pkg/build
printf 'x = 1\n' >clean.py
printf 'import os\n' >proj/pkg/a.py
printf 'def f():\n    y = 1\n    return undefined_name\n' >proj/pkg/b.py
printf 'import sys\nprint(f"plain")\n' >proj/pkg/sub/c.py
printf 'import json\n' >proj/pkg/.hidden/h.py
printf 'import json\n' >proj/pkg/__pycache__/p.py
printf 'import json\n' >proj/pkg/build/gen.py
printf 'import json\n' >proj/pkg/notes.txt
printf 'import os\n' >proj/pkg/stub.pyi

# --- the command dispatch ----------------------------------------------------

expect "version" 0 version
has "version prints" "$out" "strata "
expect "--version" 0 --version
expect "help" 0 help
has "help lists check" "$out" "check"
expect "--help" 0 --help
expect "help check" 0 help check
has "help check shows options" "$out" "--max-file-size"
expect "help unknown" 2 help nosuch
expect "no command" 2
has "no command prints usage" "$err" "usage: strata"
expect "unknown command" 2 frobnicate
has "unknown command message" "$err" "unknown command 'frobnicate'"

# --- exit statuses and formats -------------------------------------------------

expect "clean file" 0 check clean.py
same "clean file: no output" "$out" ""
has "clean summary" "$err" "Found 0 diagnostics in 0 files (1 file checked"

expect "diagnostics" 1 check proj/pkg/a.py
same "text line" "$out" "proj/pkg/a.py:1:1: F401 'os' imported but unused"
has "summary" "$err" "Found 1 diagnostic in 1 file (1 file checked"

expect "directory walk" 1 check proj
same "walk finds .py and .pyi, skips hidden, __pycache__, .txt" \
    "$(printf '%s\n' "$out" | cut -d: -f1 | sort -u | tr '\n' ' ')" \
    "proj/pkg/a.py proj/pkg/b.py proj/pkg/build/gen.py proj/pkg/stub.pyi proj/pkg/sub/c.py "
has "walk summary" "$err" "(5 files checked"
has "F841" "$out" "proj/pkg/b.py:2:5: F841"
has "F821" "$out" "proj/pkg/b.py:3:12: F821"
has "F541" "$out" "proj/pkg/sub/c.py:2:7: F541"

expect "trailing slash" 1 check proj/
has "trailing slash joins once" "$out" "proj/pkg/a.py:1:1:"
lacks "no double slash" "$out" "//"

expect "explicit hidden and .txt files" 1 check proj/pkg/.hidden/h.py proj/pkg/notes.txt
has "explicit hidden checked" "$out" "proj/pkg/.hidden/h.py:1:1: F401"
has "explicit .txt checked" "$out" "proj/pkg/notes.txt:1:1: F401"

expect "sorted output" 1 check proj/pkg/sub proj/pkg/b.py proj/pkg/a.py
if printf '%s\n' "$out" | LC_ALL=C sort -t: -k1,1 -k2,2n -k3,3n -C; then pass; else
    fail "output not sorted: $out"
fi

expect "json" 1 check --format json proj
json_ok "json output" "$out"
has "json fields" "$out" '"filename": "proj/pkg/a.py", "line": 1, "column": 1, "code": "F401"'
expect "json clean" 0 check --format=json clean.py
same "json empty array" "$out" "[]"

mkdir -p weird
printf 'import os\n' >"weird/bad$(printf '\377')name.py"
printf 'import os\n' >'weird/quote"back\slash.py'
printf 'import os\n' >"weird/new
line.py"
expect "json weird paths" 1 check --format json weird
json_ok "json with invalid UTF-8, quotes, newline in paths" "$out"
n=$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
same "json weird count" "$n" "3"
has "json invalid byte replaced" "$out" "bad$(printf '\357\277\275')name.py"

expect "sarif" 1 check --format sarif proj
json_ok "sarif output" "$out"
n=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); r=d["runs"][0]; print(d["version"], len(r["results"]), r["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["results"][0]["ruleId"] in [x["id"] for x in r["tool"]["driver"]["rules"]])')
has "sarif fields" "$n" "2.1.0"
has "sarif rule listed" "$n" "True"
expect "sarif weird paths" 1 check --format sarif weird
json_ok "sarif with odd bytes in paths" "$out"
has "sarif uri percent-encoded" "$out" 'bad%FFname.py'
expect "sarif clean" 0 check --format=sarif clean.py
json_ok "sarif empty run" "$out"
expect "bad format" 2 check --format xml proj

# --- --jobs -------------------------------------------------------------------

for form in "--jobs 2" "--jobs=2" "-j 2" "-j2" "--jobs 0" "-j 1"; do
    # shellcheck disable=SC2086
    expect "jobs $form" 1 check $form proj
done
expect "jobs negative" 2 check --jobs -1 proj
has "jobs negative message" "$err" "invalid value '-1' for --jobs"
expect "jobs not a number" 2 check --jobs=many proj
expect "jobs too many" 2 check -j 100000 proj
expect "jobs missing value" 2 check proj --jobs
has "jobs missing message" "$err" "option '--jobs' needs a value"

mkdir -p big
for i in $(seq 1 60); do
    {
        printf 'import os\nimport sys\n\n'
        for k in $(seq 1 "$((i % 7 + 1))"); do
            printf 'def f%d(x):\n    unused_%d = x\n    return g%d(x)\n\n' "$k" "$k" "$k"
        done
    } >"big/m$i.py"
done
run check big -j 1
one=$out
run check big -j 2
two=$out
run check big
dflt=$out
run check big --jobs 8
eight=$out
same "jobs 1 == jobs 2" "$one" "$two"
same "jobs 1 == default" "$one" "$dflt"
same "jobs 1 == jobs 8" "$one" "$eight"
run check --format json big -j 1
j1=$out
run check --format json big -j 2
same "json jobs 1 == jobs 2" "$j1" "$out"
run check "$repo/examples/sample" -j 1
s1=$out
run check "$repo/examples/sample" -j 2
same "sample jobs 1 == jobs 2" "$s1" "$out"

# --- --select / --ignore ---------------------------------------------------------

codes() { printf '%s\n' "$out" | awk '{print $2}' | sort -u | tr '\n' ' '; }
expect "select F401" 1 check --select F401 proj
same "select F401 codes" "$(codes)" "F401 "
expect "select F4 prefix" 1 check --select F4 proj
same "select F4 codes" "$(codes)" "F401 "
expect "select F8" 1 check --select=F8 proj
same "select F8 codes" "$(codes)" "F821 F841 "
expect "select two" 1 check --select F541,F821 proj
same "select two codes" "$(codes)" "F541 F821 "
expect "select ALL" 1 check --select ALL proj
same "select ALL codes" "$(codes)" "F401 F541 F821 F841 "
expect "ignore F401" 1 check --ignore F401 proj
same "ignore F401 codes" "$(codes)" "F541 F821 F841 "
expect "ignore F8 prefix" 1 check --ignore F8 proj
same "ignore F8 codes" "$(codes)" "F401 F541 "
expect "longer select beats shorter ignore" 1 check --select F401 --ignore F4 proj
same "select F401 ignore F4" "$(codes)" "F401 "
expect "equal ignore beats select" 0 check --select F --ignore F proj
same "all ignored: no output" "$out" ""
expect "longer ignore beats select" 1 check --select F4,F5 --ignore F401 proj
same "select F4 ignore F401" "$(codes)" "F541 "
expect "ignore all: exit 0" 0 check --ignore F proj
expect "select lower case" 2 check --select f401 proj
has "bad code message" "$err" "invalid rule code 'f401'"
expect "select empty item" 2 check --select F401, proj
expect "select empty" 2 check --select "" proj
expect "ignore bad" 2 check --ignore 401 proj

# --- --exclude --------------------------------------------------------------------

expect "exclude dir name" 1 check --exclude build proj
lacks "exclude build" "$out" "build/gen.py"
expect "exclude glob, repeated, = form" 1 check --exclude '*.pyi' --exclude=sub proj
lacks "exclude *.pyi" "$out" "stub.pyi"
lacks "exclude sub" "$out" "sub/c.py"
has "exclude keeps others" "$out" "proj/pkg/a.py"
expect "exclude relative path" 1 check --exclude 'pkg/sub/*' proj
lacks "exclude pkg/sub/*" "$out" "sub/c.py"
expect "exclude everything" 0 check --exclude '*.py*' proj
has "exclude everything summary" "$err" "(0 files checked"
expect "exclude empty" 2 check --exclude "" proj

# --- --max-file-size, --quiet, --help, bad flags ---------------------------------------

expect "max file size" 1 check --max-file-size 5 clean.py
same "max file size E902" "$out" \
    "clean.py:1:1: E902 file too large: 6 bytes (limit 5, see --max-file-size)"
expect "max file size ok" 0 check --max-file-size=6 clean.py
expect "max file size zero" 2 check --max-file-size 0 clean.py
expect "max file size junk" 2 check --max-file-size 1k clean.py

expect "quiet" 1 check --quiet proj
same "quiet: no stderr" "$err" ""
expect "-q" 0 check -q clean.py
same "-q: no stderr" "$err" ""

expect "check --help" 0 check --help
has "check --help usage" "$out" "usage: strata check"
expect "check -h" 0 check -h

expect "unknown flag" 2 check --frobnicate proj
has "unknown flag message" "$err" "strata check: unknown option '--frobnicate'"
expect "unknown short flag" 2 check -z proj
expect "flag takes no value" 2 check --quiet=yes proj
expect "bad format" 2 check --format xml proj
has "bad format message" "$err" "invalid value 'xml' for --format (expected full, concise, grouped, json"
expect "format missing" 2 check --format

printf 'import os\n' >./-dash.py
expect "-- ends options" 1 check -- -dash.py
has "-- path checked" "$out" "-dash.py:1:1: F401"

# --- missing, unreadable, loops ---------------------------------------------------------

expect "missing path" 2 check nope.py proj/pkg/a.py
has "missing message" "$err" "strata: nope.py: No such file or directory"
has "missing: the rest still checked" "$out" "proj/pkg/a.py:1:1: F401"

mkdir -p loop/inner
printf 'import os\n' >loop/inner/m.py
ln -s .. loop/inner/up
ln -s . loop/self
ln -s inner loop/again
if timeout 20 "$strata" check loop >"$tmp/.out" 2>"$tmp/.err"; then rc=0; else rc=$?; fi
same "symlink loop terminates, exit 1" "$rc" "1"
same "symlink loop: file once" "$(cat "$tmp/.out")" "loop/inner/m.py:1:1: F401 'os' imported but unused"

mkdir -p dangling
ln -s nowhere.py dangling/gone.py
expect "dangling link" 1 check dangling
has "dangling link E902" "$out" "dangling/gone.py:1:1: E902 cannot read file: No such file or directory"

if [ "$(id -u)" -eq 0 ]; then
    echo "skip: unreadable file and directory cases (running as root, which reads anything)"
else
    mkdir -p locked/dir
    printf 'import os\n' >locked/secret.py
    printf 'import os\n' >locked/dir/x.py
    chmod 000 locked/secret.py locked/dir
    expect "unreadable file: exit 1, not 2" 1 check locked
    has "unreadable file E902" "$out" "locked/secret.py:1:1: E902 cannot read file: Permission denied"
    has "unreadable dir E902" "$out" "locked/dir:1:1: E902 cannot read directory: Permission denied"
    chmod 755 locked/dir
    chmod 644 locked/secret.py
fi

mkdir -p empty/sub
expect "no python files" 0 check empty
has "no python files summary" "$err" "(0 files checked"

if [ -w /dev/full ]; then
    "$strata" check proj >/dev/full 2>"$tmp/.err"
    same "write error: exit 2" "$?" "2"
    has "write error message" "$(cat "$tmp/.err")" "cannot write the report"
fi

# --- the sample project (make run) ------------------------------------------------------

expect "sample project" 1 check "$repo/examples/sample"
for code in F401 F811 F841 F541 F632 F821 E0611 E1121; do
    has "sample shows $code" "$out" " $code "
done

# --- keygen ---------------------------------------------------------------------
mkdir -p keys
expect "keygen" 0 keygen --dir keys --name node1
has "keygen prints the public key" "$out" "public key: "
if [ "$(stat -c %a keys/node1.key)" = 600 ]; then pass; else fail "keygen: secret key mode"; fi
same "keygen pub is one line" "$(wc -l <keys/node1.pub | tr -d ' ')" "1"
expect "keygen keeps an existing pair" 2 keygen --dir keys --name node1
has "keygen says --force" "$err" "--force"
expect "keygen --force" 0 keygen --dir keys --name node1 --force
expect "keygen bad argument" 2 keygen --size 3
expect "keygen missing dir" 2 keygen --dir /nonexistent-strata-dir

# ---- the progress line ------------------------------------------------------
# On a terminal (script(1) gives the run a pseudo-terminal) a check that
# lasts more than PROGRESS_DELAY_MS draws a progress line on stderr and
# erases it before the summary; with stderr not a terminal, or --quiet, no
# line. The stdlib is long enough to draw on any machine.
std=/usr/lib/python3.11
if command -v script >/dev/null && [ -d "$std/email" ]; then
    script -qec "'$strata' check --no-cache --no-workers -j 1 '$std' >/dev/null" "$tmp/tty.txt" \
        >/dev/null 2>&1
    tty_out=$(tr '\r' '\n' <"$tmp/tty.txt")
    has "progress on a terminal" "$tty_out" "strata ["
    has "progress counts files" "$tty_out" " files"
    # the line is erased (ESC [K after a carriage return) before the summary
    if grep -qa $'\r\e\[KFound ' "$tmp/tty.txt"; then pass; else
        fail "progress not erased before the summary: $(tail -c 300 "$tmp/tty.txt" | od -c | tail -5)"
    fi
    script -qec "'$strata' check -q --no-cache --no-workers -j 1 '$std' >/dev/null" "$tmp/tty_q.txt" \
        >/dev/null 2>&1
    lacks "no progress with --quiet" "$(cat "$tmp/tty_q.txt")" "strata ["
    run check --no-cache --no-workers -j 1 "$std/email"
    lacks "no progress when stderr is not a terminal" "$err" "strata ["
else
    echo "skipped the progress line: no script(1) or no $std" >&2
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
