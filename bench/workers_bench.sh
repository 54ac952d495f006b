#!/usr/bin/env bash
# workers_bench.sh - scans in worker processes against scans in-process.
#
# In one run on the stdlib corpus (tests excluded, as stdlib_files.sh),
# cold (--no-cache), each configuration alternated with the others RUNS
# times, medians printed:
#   in-process, 1 thread (--no-workers -j 1)
#   in-process, 2 threads (--no-workers -j 2)
#   1 worker process x 1 thread (--workers 1 -j 1)
#   2 worker processes x 1 thread (--workers 2 -j 1)
#   the single-host default (1 worker process, a thread per CPU)
# and the ratios the distributed-runtime issue sets bars on: 2 workers x 1
# thread against 1 worker x 1 thread (bar >= 1.8 on two free cores), and the
# default against in-process -j 2 (bar: within 10%). Peak resident memory of
# the strata process (the coordinator's side) is printed too; the worker's is
# not visible from here.
#
# Usage: bench/workers_bench.sh [BUILD_DIR] [RUNS]   (default build, 5)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
runs=${2:-5}
strata=$build/strata
root=/usr/lib/python3.11
if [ ! -x "$strata" ] || [ ! -d "$root" ]; then
    echo "workers_bench: needs $strata and $root" >&2
    exit 2
fi
ex=(--exclude site-packages --exclude dist-packages --exclude test --exclude tests
    --exclude idle_test)
names=(inproc_j1 inproc_j2 w1x1 w2x1 default)
declare -A args=(
    [inproc_j1]="--no-workers -j 1"
    [inproc_j2]="--no-workers -j 2"
    [w1x1]="--workers 1 -j 1"
    [w2x1]="--workers 2 -j 1"
    [default]=""
)
declare -A times mem

one() { # name -> "seconds maxrss_kb"
    local out
    # shellcheck disable=SC2086
    out=$( { /usr/bin/time -f "%e %M" "$strata" check -q --no-cache ${args[$1]} "${ex[@]}" "$root" \
        >/dev/null; } 2>&1 | tail -1)
    echo "$out"
}

"$strata" check -q --no-cache --no-workers "${ex[@]}" "$root" >/dev/null # warm the page cache
for ((r = 0; r < runs; r++)); do
    for n in "${names[@]}"; do
        read -r t m < <(one "$n")
        times[$n]+="$t "
        mem[$n]=$m
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-34s %8s %10s\n' configuration seconds "peak RSS"
for n in "${names[@]}"; do
    med=$(printf '%s' "${times[$n]}" | median)
    declare "med_$n=$med"
    printf '%-34s %8s %8s KB   (runs: %s)\n' "$n (${args[$n]:-default})" "$med" "${mem[$n]}" \
        "${times[$n]}"
done
awk -v a="$med_w1x1" -v b="$med_w2x1" -v c="$med_inproc_j2" -v d="$med_default" 'BEGIN {
    printf "\n2 workers x 1 thread vs 1 x 1:        %.2fx   (bar >= 1.80)\n", a / b
    printf "single-host default vs in-process -j2: %.2f    (bar <= 1.10)\n", d / c
}'
