#!/usr/bin/env bash
# test_precommit.sh - the pre-commit hook of .pre-commit-hooks.yaml, run by
# Debian's real pre-commit, offline.
#
# A hooks repository holding this repository's .pre-commit-hooks.yaml is
# committed in the scratch directory and named by path in the fixture
# repository's .pre-commit-config.yaml (a local clone: no network); the
# strata under test is the `strata` on PATH; PRE_COMMIT_HOME and HOME are
# inside the scratch directory. `git commit` then runs the hook: it fails on
# a commit that adds a bad file (and says why), passes on a good one, and
# stays quiet about an import of a module that exists in the work tree but
# is not staged (nor tracked), though that module has errors of its own.
#
# Usage: bash test_precommit.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=precommit
. "$(dirname "$0")/lib.sh" "$@"

if ! command -v pre-commit >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
    echo "test_precommit: pre-commit or git missing: run scripts/bootstrap.sh" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config PRE_COMMIT_HOME=$tmp/pre-commit-home
export GIT_CONFIG_NOSYSTEM=1 PRE_COMMIT_COLOR=never
mkdir -p "$HOME" "$tmp/bin"
ln -s "$strata" "$tmp/bin/strata"
export PATH=$tmp/bin:$PATH

# ok NAME COMMAND...: passes when COMMAND succeeds.
ok() {
    local name=$1
    shift
    if "$@"; then pass; else fail "$name: $(cat "$tmp/.log" 2>/dev/null)"; fi
}
holds() { grep -qF -- "$2" "$1"; }

git_here() { git -c init.defaultBranch=main "$@"; }

# The hooks repository: this repository's hook definition, committed.
mkdir hooks && cd hooks || exit 2
git_here init -q .
git config user.name test && git config user.email test@example.invalid
cp "$repo/.pre-commit-hooks.yaml" .
git add .pre-commit-hooks.yaml && git commit -q -m hooks
rev=$(git rev-parse HEAD)
cd "$tmp" || exit 2

# The project: its configuration committed first (pre-commit insists).
mkdir project && cd project || exit 2
git_here init -q .
git config user.name test && git config user.email test@example.invalid
cat >.pre-commit-config.yaml <<YAML
repos:
  - repo: $tmp/hooks
    rev: $rev
    hooks:
      - id: strata
        args: [--no-cache]
YAML
mkdir pkg && touch pkg/__init__.py
git add .pre-commit-config.yaml pkg/__init__.py && git commit -q -m start
pre-commit install >"$tmp/.log" 2>&1
ok "pre-commit install" test -x .git/hooks/pre-commit

# a bad file: the commit is refused, and the output says why
printf 'import os\n' >pkg/bad.py
git add pkg/bad.py
git commit -m bad >"$tmp/.log" 2>&1
rc=$?
ok "a bad commit is refused" test "$rc" -ne 0
ok "... by the strata hook" holds "$tmp/.log" "strata"
ok "... naming the diagnostic" holds "$tmp/.log" "pkg/bad.py:1:1: F401 'os' imported but unused"
ok "... and nothing was committed" test "$(git rev-list --count HEAD)" -eq 1
git rm -q --cached pkg/bad.py && rm pkg/bad.py

# a good file: the hook runs and passes
printf 'import os\nprint(os.sep)\n' >pkg/good.py
git add pkg/good.py
git commit -m good >"$tmp/.log" 2>&1
rc=$?
ok "a good commit passes" test "$rc" -eq 0
ok "... through the hook" holds "$tmp/.log" "Passed"
ok "... and is committed" test "$(git rev-list --count HEAD)" -eq 2

# a staged file imports a module that is in the work tree but not staged
# (nor tracked), which has an error of its own: quiet
printf 'import sys\nx = 1\n' >pkg/helper.py
printf 'from pkg.helper import x\nfrom . import helper\nprint(x, helper)\n' >pkg/user.py
git add pkg/user.py
git commit -m user >"$tmp/.log" 2>&1
rc=$?
ok "an import of an unstaged module passes" test "$rc" -eq 0
ok "... without E0401" bash -c "! grep -q E0401 '$tmp/.log'"
ok "... and says nothing of the unstaged module" bash -c "! grep -q helper.py '$tmp/.log'"
ok "... and is committed" test "$(git rev-list --count HEAD)" -eq 3

# the same staged file importing a name the module lacks: refused
printf 'from pkg.helper import missing\nprint(missing)\n' >pkg/user.py
git add pkg/user.py
git commit -m broken >"$tmp/.log" 2>&1
rc=$?
ok "a real cross-module error is refused" test "$rc" -ne 0
ok "... naming it" holds "$tmp/.log" "pkg/user.py:1:1: E0611 No name 'missing' in module 'pkg.helper'"
cd "$tmp" || exit 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
