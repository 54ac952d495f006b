#!/usr/bin/env bash
# warm_config.sh - warm_bench with a configuration file: the stdlib corpus
# (bench/stdlib_files.sh) copied under a project directory whose
# pyproject.toml has a [tool.strata] table of the kind a team keeps
# (ignores, per-file ignores, excludes, a target version), so that every
# run finds, reads and applies it. Prints warm_bench's table; its ratio
# warm/(read+hash) is the configuration's bar (<= 1.5).
#
# Usage: bash bench/warm_config.sh PATH-TO-STRATA [RUNS]
# (warm_bench is looked for beside the binary, in bench/ of the build).
set -euo pipefail

strata=${1:?usage: warm_config.sh PATH-TO-STRATA [RUNS]}
runs=${2:-11}
here=$(cd "$(dirname "$0")" && pwd)
bench=$(dirname "$strata")/bench/warm_bench
root=/usr/lib/python3.11
if [ ! -x "$bench" ]; then
    echo "warm_config: no $bench (build the benches first)" >&2
    exit 2
fi
tmp=$(mktemp -d /tmp/strata-warm-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

proj="$tmp/proj"
bash "$here/stdlib_files.sh" "$root" 2>/dev/null | while read -r f; do
    rel=${f#"$root"/}
    mkdir -p "$proj/$(dirname "$rel")"
    cp -p "$f" "$proj/$rel"
done
cat >"$proj/pyproject.toml" <<'TOML'
[project]
name = "stdlib-copy"
requires-python = ">=3.11"

[tool.strata]
target-version = "py311"
extend-select = ["E1101", "E0611"]
ignore = ["F841"]
extend-exclude = ["build", "*.egg-info"]
respect-gitignore = true

[tool.strata.per-file-ignores]
"*/__init__.py" = ["F401"]
"encodings/*" = ["F403", "F405"]
"lib2to3/fixes/*" = ["F811"]
TOML
"$strata" config "$proj/os.py" >/dev/null || {
    echo "warm_config: strata does not accept the configuration" >&2
    exit 2
}
echo "configuration: $proj/pyproject.toml ([tool.strata], per-file-ignores)"
(cd "$proj" && find "$proj" -name '*.py' | sort) | "$bench" "$strata" "$runs"
