#!/usr/bin/env bash
# test_output_formats.sh - every --output-format and the flags around it,
# checked by the tools that read them: SARIF by Microsoft's SARIF multitool
# (installed by scripts/bootstrap.sh in .deps/), GitHub lines against the
# workflow-command grammar, GitLab reports for their fields and for
# fingerprints that survive a line inserted above, JUnit XML by Debian's
# junitparser. Each format prints the same bytes in this process, in worker
# processes and through `strata submit` (which reads source lines on the
# client). Usage: test_output_formats.sh PATH-TO-STRATA REPO-ROOT
set -u

E2E_NAME=output-formats
. "$(dirname "$0")/lib.sh" "$@"

check() { # NAME CONDITION-EXIT-STATUS DETAIL
    if [ "$2" -eq 0 ]; then pass; else fail "$1: $3"; fi
}
same_text() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got [$2] want [$3]"; fi
}

# ---- the project: non-ASCII, a tab, a path with a space, comma and colon --
mkdir -p proj/"sub dir, x"
printf 'import os\nimport sys\n\nprint(caf\xc3\xa9 + undefined_name)\n' >proj/a.py
printf 'import json\n' >"proj/sub dir, x/b:c.py"
printf 'import os\nimport os\n' >proj/twice.py
printf 'def f(:\n' >proj/syntax.py
cd proj || exit 2

formats="full concise grouped json json-lines sarif github gitlab junit pylint"

# ---- line formats, exact ---------------------------------------------------
expect "concise" 1 check --no-cache -q --output-format concise .
concise=$out
expect "text is concise" 1 check --no-cache -q --format text .
same_text "text is concise bytes" "$out" "$concise"
expect "default off a terminal" 1 check --no-cache -q .
same_text "default is concise" "$out" "$concise"
has "concise line" "$concise" "./sub dir, x/b:c.py:1:1: F401 'json' imported but unused"

expect "pylint" 1 check --no-cache -q --output-format pylint .
has "pylint line" "$out" "./sub dir, x/b:c.py:1: [F401] 'json' imported but unused"
has "pylint line a" "$out" "./a.py:1: [F401] 'os' imported but unused"

expect "grouped" 1 check --no-cache -q --output-format grouped .
has "grouped header" "$out" "./a.py:"
has "grouped row" "$out" "  4:7  F821 undefined name 'caf"

expect "full" 1 check --no-cache -q --output-format full .
want_full=$(printf './a.py:4:13: F821 undefined name '"'"'undefined_name'"'"'\n  |\n4 | print(caf\xc3\xa9 + undefined_name)\n  |             ^')
has "full source and caret (UTF-8 counted once)" "$out" "$want_full"

# the default on a terminal is full (script gives the run a pty)
if command -v script >/dev/null 2>&1; then
    script -qec "'$strata' check --no-cache -q ." /dev/null >tty.out 2>&1
    has "default on a terminal is full" "$(tr -d '\r' <tty.out)" "4 | print(caf"
fi

# ---- every format alike in-process, in workers and through submit ----------
addr="ipc://$tmp/coord.sock"
"$strata" coordinator --bind "$addr" --cache-dir "$tmp/cache" 2>"$tmp/coord.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -qF "clients on" "$tmp/coord.log" && break; sleep 0.1; done
"$strata" worker --connect "$addr.workers" --threads 1 2>"$tmp/worker.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -qF "working for" "$tmp/worker.log" && break; sleep 0.1; done
for f in $formats; do
    "$strata" check --no-cache --no-workers -q --output-format "$f" . >"$tmp/in.$f" 2>/dev/null
    a=$?
    "$strata" check --no-cache --workers 2 -q --output-format "$f" . >"$tmp/wk.$f" 2>/dev/null
    b=$?
    timeout 60 "$strata" submit --coordinator "$addr" -q --output-format "$f" . \
        >"$tmp/sub.$f" 2>"$tmp/sub.err"
    c=$?
    if [ "$a$b$c" = 111 ] && cmp -s "$tmp/in.$f" "$tmp/wk.$f" && cmp -s "$tmp/in.$f" "$tmp/sub.$f"
    then
        pass
    else
        fail "$f: exits $a $b $c or outputs differ: $(diff "$tmp/in.$f" "$tmp/sub.$f" | head -3) \
$(cat "$tmp/sub.err")"
    fi
done
timeout 60 "$strata" submit --coordinator "$addr" -q --exit-zero --output-file "$tmp/sub.file" . \
    >"$tmp/sub.stdout" 2>/dev/null
check "submit --exit-zero --output-file" $? "exit not 0"
cmp -s "$tmp/sub.file" "$tmp/in.concise" && [ ! -s "$tmp/sub.stdout" ]
check "submit --output-file holds the report" $? "$(cat "$tmp/sub.stdout")"
timeout 60 "$strata" submit --coordinator "$addr" -q --statistics . >"$tmp/sub.stats" 2>/dev/null
"$strata" check --no-cache -q --statistics . >"$tmp/in.stats" 2>/dev/null
cmp -s "$tmp/sub.stats" "$tmp/in.stats"
check "submit --statistics" $? "$(cat "$tmp/sub.stats")"
stop_all

# ---- JSON family -----------------------------------------------------------
json_old=$(cd "$tmp/proj" && "$strata" check --no-cache -q --format json . 2>/dev/null)
same_text "--format json is --output-format json" "$json_old" "$(cat "$tmp/in.json")"
python3 - "$tmp/in.json" "$tmp/in.json-lines" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
lines = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert doc == lines, "json-lines holds the json array's objects"
assert all(list(o) == ["filename", "line", "column", "code", "message"] for o in doc)
EOF
check "json and json-lines agree" $? "see above"

# SARIF through Microsoft's multitool: no error; the warnings left are the
# two the docs explain (SARIF2004 rules with ids only, SARIF2005 no
# informationUri).
multitool="$repo/.deps/sarif-multitool/Sarif.Multitool"
if [ -x "$multitool" ]; then
    for doc in "$tmp/in.sarif" "$tmp/abs.sarif" "$tmp/empty.sarif"; do
        case $doc in
        *abs.sarif) "$strata" check --no-cache -q --output-format sarif "$tmp/proj" >"$doc" ;;
        *empty.sarif) "$strata" check --no-cache -q --output-format sarif \
            --select X999 . >"$doc" ;;
        esac
        rm -f "$doc.log"
        DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$multitool" validate "$doc" -o "$doc.log" \
            >"$doc.txt" 2>&1
        mrc=$?
        if [ "$mrc" -eq 0 ] && grep -q "Analysis completed successfully" "$doc.txt" &&
            ! grep -q ": error " "$doc.txt" &&
            ! grep ": warning " "$doc.txt" | grep -qv "SARIF2004\|SARIF2005"; then
            pass
        else
            fail "sarif multitool on $(basename "$doc"): exit $mrc: $(grep -v '^$' "$doc.txt")"
        fi
    done
else
    fail "SARIF multitool missing at $multitool (run scripts/bootstrap.sh)"
fi

# ---- GitHub: the workflow-command grammar ---------------------------------
python3 - "$tmp/in.github" <<'EOF'
import re, sys
prop = r"[^,:%\r\n]*(?:%(?:25|0D|0A|3A|2C)[^,:%\r\n]*)*"
data = r"[^%\r\n]*(?:%(?:25|0D|0A)[^%\r\n]*)*"
line = re.compile(r"::error file=(%s),line=(\d+),col=(\d+),title=(%s)::(%s)" % (prop, prop, data))
seen = []
for l in open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]:
    m = line.fullmatch(l)
    assert m, "not a workflow command: %r" % l
    seen.append(m.group(1).replace("%2C", ",").replace("%3A", ":").replace("%25", "%"))
assert "./sub dir, x/b:c.py" in seen, seen
EOF
check "github lines match the grammar" $? "see above"

# ---- GitLab: fields, and fingerprints kept when a line is inserted above ---
cp "$tmp/in.gitlab" "$tmp/gitlab.before"
cp -r "$tmp/proj" "$tmp/moved"
(
    cd "$tmp/moved" || exit 2
    printf '# a comment above\n' | cat - a.py >a.tmp && mv a.tmp a.py
    printf '\nimport os\n' >>twice.py
    "$strata" check --no-cache -q --output-format gitlab . >"$tmp/gitlab.after"
)
python3 - "$tmp/gitlab.before" "$tmp/gitlab.after" <<'EOF'
import json, sys
before = json.load(open(sys.argv[1], encoding="utf-8"))
after = json.load(open(sys.argv[2], encoding="utf-8"))
for doc in (before, after):
    for i in doc:
        assert isinstance(i["description"], str) and i["check_name"] and i["severity"] in (
            "info", "minor", "major", "critical", "blocker"), i
        assert isinstance(i["location"]["path"], str) and i["location"]["lines"]["begin"] >= 1, i
    fps = [i["fingerprint"] for i in doc]
    assert len(set(fps)) == len(fps), "fingerprints are unique"
fb = {i["fingerprint"]: i for i in before}
fa = {i["fingerprint"]: i for i in after}
for fp, i in fb.items():
    assert fp in fa, "fingerprint of %s lost" % i
    if i["location"]["path"] == "./a.py":
        assert fa[fp]["location"]["lines"]["begin"] == i["location"]["lines"]["begin"] + 1
assert len(fa) == len(fb) + 1, "the third 'import os' gets a new fingerprint"
EOF
check "gitlab fields and stable fingerprints" $? "see above"

# ---- JUnit through junitparser (Debian's, under /usr/bin/python3) ----------
/usr/bin/python3 - "$tmp/in.junit" <<'EOF'
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml)
assert len(suites) == 1, suites
suite = suites[0]
cases = {c.name: c for c in suite}
want = {"./a.py": 4, "./sub dir, x/b:c.py": 1, "./syntax.py": 1, "./twice.py": 2}
got = {n: sum(isinstance(r, Failure) for r in c.result) for n, c in cases.items()}
assert got == want, got
stated = (suite.tests, suite.failures, suite.errors)
suite.update_statistics()
assert stated == (suite.tests, suite.failures, suite.errors) == (4, 8, 0), stated
EOF
check "junit read by junitparser" $? "see above"
"$strata" check --no-cache -q --output-format junit --select X999 . >"$tmp/empty.junit"
/usr/bin/python3 -c "
import sys; from junitparser import JUnitXml
s = list(JUnitXml.fromfile(sys.argv[1]))[0]; assert (s.tests, s.failures) == (0, 0)" \
    "$tmp/empty.junit"
check "empty junit" $? "$(cat "$tmp/empty.junit")"

# ---- flags -----------------------------------------------------------------
expect "statistics" 1 check --no-cache -q --statistics .
same_text "statistics lines" "$out" "$(printf '4\tF401\n2\tF821\n1\tE999\n1\tF811\n')"
expect "statistics json" 1 check --no-cache -q --statistics --output-format json .
has "statistics json" "$out" '{"code": "F401", "count": 4}'
expect "exit-zero" 0 check --no-cache -q --exit-zero .
expect "exit-zero keeps errors" 2 check --no-cache -q --exit-zero . missing.py
expect "output-file" 1 check --no-cache --output-file "$tmp/report.txt" .
same_text "output-file leaves stdout empty" "$out" ""
has "summary stays on stderr" "$err" "Found 8 diagnostics"
same_text "output-file holds concise" "$(cat "$tmp/report.txt")" "$concise"
expect "output-file unwritable" 2 check --no-cache -q --output-file "$tmp/no/such/dir/r" .
has "output-file message" "$err" "cannot write $tmp/no/such/dir/r"
expect "bad format" 2 check --output-format xml .
has "bad format lists the names" "$err" \
    "invalid value 'xml' for --output-format (expected full, concise, grouped, json, json-lines"
expect "bad --format alias" 2 check --format yaml .
has "bad --format message" "$err" "for --format (expected full"
expect "help lists the formats" 0 check --help
has "help" "$out" "--output-format FMT"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
