#!/usr/bin/env bash
# run_all.sh - every bench in one go; what `make bench` runs.
#
# Runs the speed bench (scan_bench and the wall-time comparison, see
# speed.sh), the accuracy comparison with pyflakes (the four codes of the
# bar, then every code), the cross-module checks against pylint and under
# fault injection (confirmed by pyright), the checks against the standard
# library and installed packages (precision against pylint and pyright, the
# Twisted speed bench), the incremental re-checks, the language server
# against pyright's (bench/lsp_bench.py), and any other bench
# program the build produced
# (simd_bench, typeset_bench, exec_bench, ...). Benches report, they do not assert: a
# missing tool or binary is reported and the rest still runs. The whole
# output is also kept in bench/out/run_all.txt.
#
# Usage: bench/run_all.sh BUILD_DIR   (after scripts/bench-deps.sh)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
mkdir -p "$top/bench/out"
log=$top/bench/out/run_all.txt

section() {
    printf '\n== %s\n' "$*"
}

run_all() {
    local status=0 b name
    section "speed: bench/speed.sh $build"
    "$top/bench/speed.sh" "$build" || status=1

    section "accuracy: strata vs pyflakes on the stdlib (bar codes)"
    if [ -x "$build/strata" ]; then
        /usr/bin/python3 "$top/bench/pyflakes_compare.py" "$build/strata" || status=1
        section "accuracy: every code either tool reports"
        /usr/bin/python3 "$top/bench/pyflakes_compare.py" "$build/strata" --codes all ||
            status=1
    else
        echo "no $build/strata: accuracy comparison skipped"
    fi

    if [ -x "$build/strata" ]; then
        section "cross-module checks: strata vs pylint on the clean stdlib"
        /usr/bin/python3 "$top/bench/pylint_compare.py" --strata "$build/strata" || status=1
        section "cross-module checks: fault injection on a copy of the stdlib"
        /usr/bin/python3 "$top/bench/inject_faults.py" --pyright --strata "$build/strata" ||
            status=1
        section "cross-module checks: fault injection on a copy of dist-packages"
        /usr/bin/python3 "$top/bench/inject_faults.py" --pyright --strata "$build/strata" \
            --src /usr/lib/python3/dist-packages || status=1
        section "environment: strata's reports confirmed by pylint or pyright, stdlib"
        /usr/bin/python3 "$top/bench/precision_compare.py" --strata "$build/strata" || status=1
        section "environment: strata's reports confirmed by pylint or pyright, dist-packages"
        /usr/bin/python3 "$top/bench/precision_compare.py" --strata "$build/strata" \
            --root /usr/lib/python3/dist-packages || status=1
        section "environment: Twisted against pyright, the stubs paid once, re-checks"
        /usr/bin/python3 "$top/bench/twisted_bench.py" --strata "$build/strata" \
            --warm-bench "$build/bench/warm_bench" || status=1
        section "incremental re-checks on a copy of the stdlib"
        /usr/bin/python3 "$top/bench/incr_bench.py" --strata "$build/strata" || status=1
        section "warm re-check under a pyproject.toml against read + hash"
        bash "$top/bench/warm_config.sh" "$build/strata" || status=1
        section "team cache: a clone filled from nginx against a cold check"
        bash "$top/bench/remote_bench.sh" "$build/strata" || status=1
        section "language server: strata lsp against pyright's, driven by neovim"
        /usr/bin/python3 "$top/bench/lsp_bench.py" --strata "$build/strata" || status=1
        section "worker processes against in-process scans"
        "$top/bench/workers_bench.sh" "$build" || status=1
    fi

    for b in "$build"/bench/*_bench "$build"/*_bench; do
        [ -x "$b" ] || continue
        name=$(basename "$b")
        [ "$name" = scan_bench ] && continue # run by speed.sh on the corpus
        section "$name"
        "$b" || { echo "$name exited $?"; status=1; }
    done
    return $status
}

run_all 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo
echo "run_all: output kept in ${log#"$top"/}"
exit "$status"
