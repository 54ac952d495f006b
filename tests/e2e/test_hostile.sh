#!/usr/bin/env bash
# test_hostile.sh - strata on hostile files: no crash, no hang, honest exit.
#
# A scan job gets whatever bytes a repository holds, so every kind of bad
# file must end as diagnostics, never as a crash, a hang or a wrong exit
# status. This test writes such files (random bytes, invalid UTF-8, NUL
# bytes, a 50 MB expression, 5000-deep brackets, 3000 nested blocks, a 10 MB
# line, an empty file, a lone BOM, CRLF/CR/tab files, latin-1 with and
# without its coding line, ...) into a temporary directory and runs
# `strata check` on each under a timeout. CPython is the judge of what is
# valid: /usr/bin/python3's compile() on the same bytes (under a 1 GB memory
# cap and a timeout; failing to compile within them counts as a rejection).
#
# For each file, it passes when: strata exits 0 or 1 (never a signal or 2),
# within the timeout, with no sanitizer report on stderr; it exits 1 exactly
# when it printed a diagnostic; a file CPython rejects gets an E999 or E902
# diagnostic; a file CPython accepts gets no E999. Each file also carries the
# verdict CPython is expected to give, which checks the generator itself
# ("either" where CPython's own entry points disagree: only the first rules).
#
# Usage: bash test_hostile.sh STRATA REPO_ROOT   (ctest passes both)
# Env: HOSTILE_TIMEOUT (seconds per strata run, default 60).
# Ends with "N passed, N failed"; exit 1 when any failed.
set -uo pipefail

strata=${1:?usage: test_hostile.sh STRATA REPO_ROOT}
py=/usr/bin/python3
limit=${HOSTILE_TIMEOUT:-60}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-hostile.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# Writes every hostile file into $1 and, in $1/cases.tsv, each file's name
# with the verdict CPython is expected to give (accept, reject or either).
generate() {
    "$py" - "$1" <<'PY'
import os, random, sys

out = sys.argv[1]
BOM = b"\xef\xbb\xbf"
LATIN1 = b"# -*- coding: latin-1 -*-\n"


def nested_ifs(n):
    # One space per level keeps 3000 levels at 4.5 MB.
    return b"".join(b" " * i + b"if x:\n" for i in range(n)) + b" " * n + b"pass\n"


def nested_fors(n):
    return b"".join(b" " * i + b"for x in y:\n" for i in range(n)) + b" " * n + b"pass\n"


cases = [
    ("random_bytes", random.Random(3).randbytes(256 << 10), "reject"),
    ("invalid_utf8", b"x = 1\ny = '\xff\xfe'\n", "reject"),
    # compile() and import accept bad UTF-8 in a comment, `python3 file.py`
    # rejects it ("Non-UTF-8 code"): either verdict of strata is right.
    ("invalid_utf8_comment", b"# \xc0\xaf\nx = 1\n", "either"),
    ("utf8_surrogate", b"s = '\xed\xa0\x80'\n", "reject"),
    ("nul_byte", b"x = 1\x00\ny = 2\n", "reject"),
    ("nul_in_comment", b"# a\x00b\nx = 1\n", "reject"),
    ("expr_50mb", b"x = 1" + b"+1" * (25 * 1000 * 1000) + b"\n", "reject"),
    ("parens_5000", b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", "reject"),
    ("brackets_5000", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "reject"),
    ("blocks_3000", nested_ifs(3000), "reject"),
    ("blocks_99", nested_ifs(99), "accept"),
    ("blocks_100", nested_ifs(100), "reject"),
    ("loops_20", nested_fors(20), "accept"),
    ("loops_21", nested_fors(21), "reject"),
    ("line_10mb", b'x = "' + b"a" * (10 * 1000 * 1000) + b'"\n', "accept"),
    ("line_1mb_tokens", b"x = [" + b"1, " * (350 * 1000) + b"]\n", "accept"),
    ("empty", b"", "accept"),
    ("bom_only", BOM, "accept"),
    ("bom_code", BOM + b"x = 1\n", "accept"),
    ("crlf", b"import os\r\n\r\ndef f():\r\n    return os.sep\r\n", "accept"),
    ("cr_only", b"x = 1\ry = 2\rprint(x, y)\r", "accept"),
    ("mixed_eol", b"x = 1\ry = 2\r\nprint(x, y)\n", "accept"),
    ("tabs", b"def f(x):\n\tif x:\n\t\treturn 1\n\treturn 2\n", "accept"),
    ("tabs_spaces_mixed", b"if x:\n\ty = 1\n        z = 2\n", "reject"),
    ("latin1", LATIN1 + b"s = 'caf\xe9'\nprint(s)\n", "accept"),
    ("latin1_undeclared", b"s = 'caf\xe9'\nprint(s)\n", "reject"),
    ("coding_only", LATIN1, "accept"),
    ("coding_unknown", b"# -*- coding: no-such-codec -*-\nx = 1\n", "reject"),
    ("bom_with_latin1", BOM + LATIN1 + b"x = 1\n", "reject"),
    ("unterminated_string", b'x = """abc\n', "reject"),
    ("no_final_newline", b"x = 1", "accept"),
    ("form_feed", b"\x0cx = 1\n", "accept"),
]
with open(os.path.join(out, "cases.tsv"), "w") as tsv:
    for name, data, expect in cases:
        with open(os.path.join(out, name + ".py"), "wb") as f:
            f.write(data)
        tsv.write("%s\t%s\n" % (name, expect))
PY
}

# Prints "accept" or "reject: why" for the file, as CPython's compile() says.
oracle() {
    (
        ulimit -v 1000000
        timeout -k 5 60 "$py" -c '
import sys
try:
    compile(open(sys.argv[1], "rb").read(), sys.argv[1], "exec")
    print("accept")
except BaseException as e:
    print("reject: %s: %s" % (type(e).__name__, str(e).splitlines()[0][:80] if str(e) else ""))
' "$1" 2>/dev/null
    ) || true
}

ok() {
    passed=$((passed + 1))
    echo "ok   $*"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL $*"
}

# Runs strata on one file and checks every rule; $3 is the oracle's verdict.
check_file() {
    local name=$1 file=$2 verdict=$3 rc why="" ndiag codes
    timeout -k 5 "$limit" "$strata" check "$file" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    ndiag=$(grep -cE '^.+:[0-9]+:[0-9]+: [A-Z]+[0-9]+ ' "$tmp/out")
    codes=$(grep -oE ':[0-9]+:[0-9]+: [A-Z]+[0-9]+ ' "$tmp/out" | awk '{print $2}' |
        sort -u | tr '\n' ' ')
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        why="no exit within ${limit}s;"
    elif [ "$rc" -gt 128 ]; then
        why="killed by signal $((rc - 128));"
    elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        why="exit status $rc ($(head -c 200 "$tmp/err" | tr '\n' ' '));"
    fi
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/err"; then
        why="$why sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$tmp/err");"
    fi
    if [ "$rc" -eq 1 ] && [ "$ndiag" -eq 0 ]; then
        why="$why exit 1 but no diagnostic printed;"
    elif [ "$rc" -eq 0 ] && [ "$ndiag" -gt 0 ]; then
        why="$why exit 0 but $ndiag diagnostic(s) printed;"
    fi
    case $verdict in
    accept) if grep -qE ': E999 ' "$tmp/out"; then
            why="$why CPython accepts it but strata says $(grep -m1 -E ': E999 ' "$tmp/out" |
                sed "s|^$tmp/||");"
        fi ;;
    reject*) if ! grep -qE ': E(999|902) ' "$tmp/out"; then
            why="$why CPython rejects it (${verdict#reject: }) but strata has no E999/E902;"
        fi ;;
    esac
    why=${why# }
    if [ -z "$why" ]; then
        ok "$name: exit $rc, ${codes:-no diagnostic}"
    else
        fail "$name: $why"
    fi
}

generate "$tmp" || { echo "test_hostile: generator failed"; echo "0 passed, 1 failed"; exit 1; }
have_strata=1
if [ ! -x "$strata" ]; then
    echo "test_hostile: no strata at $strata: checking the generator and the oracle only"
    have_strata=0
fi

while IFS=$'\t' read -r name expect; do
    file=$tmp/$name.py
    verdict=$(oracle "$file")
    [ -n "$verdict" ] || verdict="reject: CPython died or timed out"
    if [ "$expect" = either ]; then
        verdict="either ($verdict)"
    elif [ "${verdict%%:*}" != "$expect" ]; then
        fail "$name: generator expects CPython to $expect it, CPython says $verdict"
        continue
    fi
    if [ "$have_strata" -eq 0 ]; then
        ok "$name: CPython says $verdict"
        continue
    fi
    check_file "$name" "$file" "$verdict"
done <"$tmp/cases.tsv"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
