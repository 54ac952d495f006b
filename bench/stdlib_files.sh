#!/usr/bin/env bash
# stdlib_files.sh - prints the benchmark corpus, one path per line, sorted.
#
# Every bench (accuracy and speed) reads this one list so that all tools see
# exactly the same files: the regular .py files under the CPython standard
# library (/usr/lib/python3.11, or the root given as $1), leaving out any
# directory named site-packages, dist-packages, test, tests or idle_test.
# Symbolic links are left out too: they point at files counted elsewhere or
# outside the tree (sitecustomize.py), and a duplicate would weigh twice.
# On Debian 12 this gives 650 files and about 304K lines; the counts go to
# stderr so that stdout stays a plain list.
set -euo pipefail

root=${1:-/usr/lib/python3.11}
if [ ! -d "$root" ]; then
    echo "stdlib_files: no directory $root" >&2
    exit 2
fi

list=$(find "$root" -mindepth 1 -type d \( -name site-packages -o -name dist-packages -o -name test \
           -o -name tests -o -name idle_test \) -prune -o -type f -name '*.py' -print |
       LC_ALL=C sort)
if [ -z "$list" ]; then
    echo "stdlib_files: no .py file under $root" >&2
    exit 2
fi
printf '%s\n' "$list"

files=$(printf '%s\n' "$list" | wc -l)
counts=$(printf '%s\n' "$list" | tr '\n' '\0' | xargs -0 cat | wc -lc)
read -r lines bytes <<<"$counts"
echo "stdlib_files: $files files, $lines lines, $bytes bytes under $root" >&2
