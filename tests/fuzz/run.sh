#!/usr/bin/env bash
# run.sh - runs every libFuzzer target of a fuzz build for a while each.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]     (make fuzz runs it)
# Each target fuzz_<name> first replays tests/fuzz/regressions/<name>/ (the
# crashes found before), then fuzzes for SECONDS (default 60) from a working
# corpus in BUILD_DIR/fuzz-work/<name>/ seeded with tests/fuzz/corpus/<name>/
# (the repository is not written to; the working corpus is kept, so a later
# run starts from what an earlier one found), with tests/fuzz/dict/<name>.dict
# when there is one (msgpack keys, Python tokens). One target at a time, niced:
# the machine is shared. FUZZ_TARGETS="scan check" runs only those.
# Prints per target the executions and the verdict; exits 1 when a target
# crashed, with the path of the input that crashed it.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
work="$build/fuzz-work"
status=0

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
    for t in $FUZZ_TARGETS; do targets+=("$t"); done
else
    for exe in "$build"/tests/fuzz/fuzz_*; do
        name=$(basename "$exe")
        name=${name#fuzz_}
        [ -x "$exe" ] && [ "$name" != seedgen ] && targets+=("$name")
    done
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz: no targets in $build/tests/fuzz" >&2
    exit 2
fi

# A single allocation over 256 MiB is a finding: every decoder caps what a
# count or length may claim far below that (the targets' arenas: 64 MiB).
opts=(-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=256
      -print_final_stats=1)

for name in "${targets[@]}"; do
    exe="$build/tests/fuzz/fuzz_$name"
    dir="$work/$name"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [ ! -x "$exe" ]; then
        echo "fuzz $name: no target $exe" >&2
        status=1
        continue
    fi
    if [ "$name" = scan ]; then
        # the scan's seeds are the fixtures the scan's own tests use
        cp -n "$top"/tests/data/py/*.py "$dir/corpus/" 2>/dev/null || true
    fi
    if [ -d "$top/tests/fuzz/corpus/$name" ]; then
        cp -n "$top/tests/fuzz/corpus/$name"/* "$dir/corpus/" 2>/dev/null || true
    fi
    regs=("$top/tests/fuzz/regressions/$name"/*)
    if [ -e "${regs[0]}" ]; then
        if ! nice "$exe" "${regs[@]}" >"$dir/regressions.log" 2>&1; then
            echo "fuzz $name: a regression input crashes again (see $dir/regressions.log)"
            status=1
            continue
        fi
    fi
    dict=()
    if [ -f "$top/tests/fuzz/dict/$name.dict" ]; then
        dict=(-dict="$top/tests/fuzz/dict/$name.dict")
    fi
    log="$dir/fuzz.log"
    nice "$exe" "${opts[@]}" "${dict[@]}" -artifact_prefix="$dir/artifacts/" "$dir/corpus" \
        >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $name: clean, ${runs:-?} runs in ${secs}s, corpus $(ls "$dir/corpus" | wc -l) inputs"
    else
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "fuzz $name: FAILED (exit $rc) after ${runs:-?} runs; input: ${crash:-none written}; log: $log"
        grep -m 3 -E "^==[0-9]+==ERROR|runtime error|fuzz property failed|SUMMARY" "$log" | sed 's/^/    /'
        status=1
    fi
done
exit $status
