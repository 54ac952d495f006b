#!/usr/bin/env bash
# test_env_bench.sh - the stdlib fault kinds of bench/inject_faults.py plant
# what they say, and only where it is certain.
#
# On a small project written here: `os.getcwd` becomes a name os lacks at
# run time and in its stub (stdattr), `re.compile(p, f)` gets one positional
# argument more than the function takes (stdargs); a module bound twice and
# a use inside try get nothing, a function with *args and a call with *args
# no extra argument.
# Needs typeshed's stdlib stubs (the copy installed beside strata, pyright's
# from scripts/bench-deps.sh, else Debian mypy's) and /usr/bin/python3; skipped, with the reason
# printed, without them.
# Usage (ctest): test_env_bench.sh STRATA REPO_ROOT
E2E_NAME=env_bench
. "$(dirname "$0")/lib.sh" "$@"

py=/usr/bin/python3
typeshed=
for d in "$(dirname "$strata")/share/strata/typeshed/stdlib" \
    "$repo/.deps/typeshed/stdlib" \
    "$repo/.deps/node/node_modules/pyright/dist/typeshed-fallback/stdlib" \
    /usr/lib/python3/dist-packages/mypy/typeshed/stdlib; do
    if [ -f "$d/VERSIONS" ]; then
        typeshed=$d
        break
    fi
done
if [ -z "$typeshed" ] || [ ! -x "$py" ]; then
    echo "skip: no typeshed stdlib stubs or no $py (scripts/bench-deps.sh installs them)"
    echo "0 passed, 0 failed"
    exit 0
fi

mkdir -p src/pkg
cat >src/pkg/__init__.py <<'EOF'
EOF
cat >src/pkg/a.py <<'EOF'
import os
import sys


def where():
    return os.getcwd
EOF
cat >src/pkg/d.py <<'EOF'
import re as regex

FLAGS = regex.IGNORECASE


def pattern(p):
    return regex.compile(p, FLAGS)
EOF
cat >src/pkg/b.py <<'EOF'
import os


def twice():
    import os
    return os.getcwd


def guarded():
    try:
        return os.getpid()
    except OSError:
        return None
EOF
cat >src/pkg/c.py <<'EOF'
import posixpath


def joined(a, b):
    return posixpath.join(a, b)


def spread(args):
    return posixpath.normpath(*args)
EOF

"$py" "$repo/bench/inject_faults.py" --src src --no-run --kinds stdattr,stdargs \
    --typeshed "$typeshed" --python "$py" --manifest m.json >out.txt 2>err.txt
rc=$?
if [ "$rc" -eq 0 ]; then pass; else fail "inject_faults exited $rc: $(cat err.txt)"; fi
tree=$(sed -n 's/^inject_faults: kept //p' err.txt)

check() { # name, then a Python expression over the manifest m (a list)
    if "$py" - "$2" <<'EOF'; then pass; else fail "$1"; fi
import json, sys
m = json.load(open("m.json"))
sys.exit(0 if eval(sys.argv[1]) else 1)
EOF
}
check "stdattr: os.getcwd becomes a name os lacks" \
    'any(e["kind"] == "stdattr" and e["file"] == "pkg/a.py" and e["line"] == 6
         and e["after"].strip() == "return os.getcwdx" for e in m)'
check "stdargs: re.compile(p, f) gets one more positional argument" \
    'any(e["kind"] == "stdargs" and e["file"] == "pkg/d.py" and e["line"] == 7
         and e["after"].strip() == "return regex.compile(p, FLAGS, None)" for e in m)'
check "nothing in b.py: a module bound twice, a use inside try" \
    'not any(e["file"] == "pkg/b.py" for e in m)'
check "no stdargs in c.py: a function with *args, a call with *args" \
    'not any(e["file"] == "pkg/c.py" and e["kind"] == "stdargs" for e in m)'
if "$py" -c 'import os, sys; sys.exit(hasattr(os, "getcwdx"))'; then pass; else
    fail "os has getcwdx at run time"
fi
if [ -n "$tree" ] && "$py" -m py_compile "$tree/faulted/pkg/a.py"; then pass; else
    fail "the faulted copy does not compile ($tree)"
fi
if [ -n "$tree" ] && cmp -s src/pkg/b.py "$tree/faulted/pkg/b.py"; then pass; else
    fail "b.py changed"
fi
[ -n "$tree" ] && rm -rf "$tree"

"$py" "$repo/bench/inject_faults.py" --src src --no-run --kinds stdattr,nokind >/dev/null 2>err.txt
rc=$?
if [ "$rc" -eq 2 ]; then pass; else fail "an unknown kind: exit $rc, want 2"; fi
has "an unknown kind is named" "$(cat err.txt)" "unknown kind nokind"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
