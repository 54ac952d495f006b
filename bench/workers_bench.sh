#!/usr/bin/env bash
# workers_bench.sh - scans in worker processes against scans in-process.
#
# In one run on the stdlib corpus (tests excluded, as stdlib_files.sh),
# cold (--no-cache), each configuration alternated with the others RUNS
# times (the machine may be shared: alternating spreads its noise over
# all of them), medians and minimums printed:
#   in-process, 1 thread (--no-workers -j 1)
#   in-process, 2 threads (--no-workers -j 2)
#   1 worker process x 1 thread (--workers 1 -j 1)
#   2 worker processes x 1 thread (--workers 2 -j 1)
#   the single-host default (no option: worker processes when the measured
#   dispatch cost says they are worth it, see coordinator/hostpool.h)
# and the ratios the distributed-runtime issue sets bars on: 2 workers x 1
# thread against 1 worker x 1 thread (bar >= 1.8 on two free cores), and the
# default against in-process -j 2 (bar: within 10%).
#
# Then one --explain run of each configuration gives the peak resident
# memory of the strata process (the coordinator) and of each worker process
# (wait4's ru_maxrss; issue targets on the stdlib: coordinator < 200 MB,
# worker < 150 MB), how many of the default's runs used worker processes,
# and both sides of that decision: what dispatching was predicted to cost
# (start-up and a round trip per file) against the in-process time of the
# same scans, with the measurements behind it. The dispatch cost record
# lives in a cache directory of the bench's own, measured by its runs.
#
# Usage: bench/workers_bench.sh [BUILD_DIR] [RUNS]   (default build, 5;
#        RUNS may also come from the environment: RUNS=9 bench/...)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
runs=${2:-${RUNS:-5}}
strata=$build/strata
root=/usr/lib/python3.11
if [ ! -x "$strata" ] || [ ! -d "$root" ]; then
    echo "workers_bench: needs $strata and $root" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/workers_bench.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
export STRATA_CACHE_DIR=$work/cache # the dispatch cost record only: runs are --no-cache
mkdir -p "$STRATA_CACHE_DIR"
ex=(--exclude site-packages --exclude dist-packages --exclude test --exclude tests --exclude idle_test)
names=(inproc_j1 inproc_j2 w1x1 w2x1 default)
declare -A args=(
    [inproc_j1]="--no-workers -j 1"
    [inproc_j2]="--no-workers -j 2"
    [w1x1]="--workers 1 -j 1"
    [w2x1]="--workers 2 -j 1"
    [default]=""
)
declare -A times

one() { # name -> seconds
    # shellcheck disable=SC2086
    /usr/bin/time -o "$work/time" -f "%e" "$strata" check -q --no-cache ${args[$1]} "${ex[@]}" \
        "$root" >/dev/null 2>&1
    tail -1 "$work/time"
}

"$strata" check -q --no-cache --no-workers "${ex[@]}" "$root" >/dev/null # warm the page cache
for ((r = 0; r < runs; r++)); do
    for n in "${names[@]}"; do
        times[$n]+="$(one "$n") "
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
least() { tr ' ' '\n' | grep -v '^$' | sort -n | head -1; }
printf '%-34s %8s %8s\n' configuration median min
for n in "${names[@]}"; do
    med=$(printf '%s' "${times[$n]}" | median)
    min=$(printf '%s' "${times[$n]}" | least)
    declare "med_$n=$med" "min_$n=$min"
    printf '%-34s %8s %8s   (runs: %s)\n' "$n (${args[$n]:-default})" "$med" "$min" "${times[$n]}"
done
awk -v a="$med_w1x1" -v b="$med_w2x1" -v c="$med_inproc_j2" -v d="$med_default" \
    -v a2="$min_w1x1" -v b2="$min_w2x1" -v c2="$min_inproc_j2" -v d2="$min_default" 'BEGIN {
    printf "\n                                       medians  minimums\n"
    printf "2 workers x 1 thread vs 1 x 1:          %.2fx    %.2fx   (bar >= 1.80)\n", a / b, a2 / b2
    printf "single-host default vs in-process -j2:  %.2f     %.2f    (bar <= 1.10)\n", d / c, d2 / c2
}'

# Memory and the dispatch decision, from --explain.
echo
for n in "${names[@]}"; do
    # shellcheck disable=SC2086
    "$strata" check -q --explain --no-cache ${args[$n]} "${ex[@]}" "$root" 2>"$work/explain" \
        >/dev/null
    mem=$(grep '^explain: peak memory:' "$work/explain" | sed 's/^explain: peak memory: //')
    printf '%-34s %s\n' "$n" "${mem:-?}"
    if [ "$n" = default ]; then
        grep -E '^explain: (worker processes|measured)' "$work/explain" | sed 's/^explain: /  /'
    fi
done
echo
echo "dispatch cost record after the bench: $(cat "$STRATA_CACHE_DIR/dispatch-cost" 2>/dev/null)"
