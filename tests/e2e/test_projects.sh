#!/usr/bin/env bash
# test_projects.sh - the cross-module checks on the fixture projects.
#
# Each directory under tests/data/projects/ is a small Python project with an
# expect.txt holding strata's exact output (NOTES.md says where and why it
# differs from pylint). The project is copied to the scratch directory, and
# strata runs from inside the copy on '.':
#   strata check -q --no-cache --select E0401,...,F822 .
# so paths print as ./pkg/mod.py. Checked: the output is expect.txt line for
# line (a unified diff is printed otherwise), the exit status is 1 when
# expect.txt has a line and 0 when it is empty, nothing is written to stderr,
# and --jobs 1 and --jobs 2 print the same as the default.
#
# Usage: bash test_projects.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=projects
. "$(dirname "$0")/lib.sh" "$@"

codes=E0401,E0611,E1101,E1120,E1121,E1123,R0401,F405,F821,F822
# the same environment on every machine: typeshed's stdlib stubs (pinned)
# for Python 3.11 on linux, no interpreter (installed packages unknown)
envflags=(--no-python --python-version 3.11 --python-platform linux)
projects=$repo/tests/data/projects

# check_project NAME: runs strata on the copy of project NAME in $tmp/NAME.
check_project() {
    local name=$1 dir=$tmp/$1 want_file=$projects/$1/expect.txt want_rc=0 jobs
    local out_default rc_default rc
    if [ ! -f "$want_file" ]; then
        fail "$name: no expect.txt"
        return
    fi
    cp -R "$projects/$name" "$dir"
    rm -f "$dir/expect.txt" "$dir/NOTES.md"
    [ -s "$want_file" ] && want_rc=1

    (cd "$dir" && "$strata" check -q --no-cache "${envflags[@]}" --select "$codes" . \
        >"$tmp/.out" 2>"$tmp/.err")
    rc_default=$?
    out_default=$(cat "$tmp/.out")
    if diff -u --label "$name/expect.txt" --label "$name: strata check ." "$want_file" \
        "$tmp/.out" >"$tmp/.diff"; then
        pass
    else
        fail "$name: output differs from expect.txt:"
        cat "$tmp/.diff" >&2
    fi
    if [ "$rc_default" -eq "$want_rc" ]; then pass; else
        fail "$name: exit $rc_default, want $want_rc"
    fi
    if [ -s "$tmp/.err" ]; then
        fail "$name: stderr: $(cat "$tmp/.err")"
    else
        pass
    fi

    for jobs in 1 2; do
        (cd "$dir" && "$strata" check -q --no-cache "${envflags[@]}" --jobs "$jobs" \
            --select "$codes" . \
            >"$tmp/.out" 2>"$tmp/.err")
        rc=$?
        if [ "$rc" -ne "$rc_default" ]; then
            fail "$name: --jobs $jobs exit $rc, default run exit $rc_default"
        fi
        if [ "$(cat "$tmp/.out")" == "$out_default" ]; then pass; else
            fail "$name: --jobs $jobs prints other output than the default run:"
            diff -u --label "default" --label "--jobs $jobs" <(printf '%s\n' "$out_default") \
                "$tmp/.out" >&2
        fi
    done
}

n=0
for d in "$projects"/*/; do
    name=$(basename "$d")
    check_project "$name"
    n=$((n + 1))
done
# A glob that matched nothing would make every check vacuous.
if [ "$n" -ge 8 ]; then pass; else fail "only $n fixture projects under $projects"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
