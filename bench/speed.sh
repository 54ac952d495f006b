#!/usr/bin/env bash
# speed.sh - the speed bench of the issue, in one run, on the stdlib corpus.
#
# Every number of the speed bar is measured here against its reference in
# the same run on the same files (bench/stdlib_files.sh), so the ratios hold
# on whatever machine runs it:
#   (a) scan_bench: tree-sitter parse+walk rate vs strata's single-thread
#       scanner_run rate, files in memory, best of 3;
#   (b) wall time of `strata check --jobs 1` and `--jobs 2` (timed in
#       alternation, so that drift in the host's speed hits both), of pyflakes3
#       (one process, one thread) and of ruff-wasm's Workspace.check (node's
#       start-up and file reading excluded, see ruff_wasm.mjs);
#   (c) the ratios with PASS/FAIL and a markdown table for docs/benchmarks.md.
# The page cache is warmed first (every file read once) and the timed runs
# are cold processes: a fresh strata or pyflakes each time. Times are the
# best of N (hyperfine's min when hyperfine is there).
#
# Usage: bench/speed.sh BUILD_DIR [ROOT]
# Env: RUNS (strata runs, default 5), PYFLAKES_RUNS (3), RUFF_RUNS (3),
#      STRATA_ARGS (flags for strata check; default --no-cache: the bar is
#      about cold runs, the cache has its own bench, bench/warm_bench.c),
#      HYPERFINE (its path; empty: time with date +%s%N instead).
# Missing pieces (strata not built yet, no node) are reported as n/a.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
root=${2:-/usr/lib/python3.11}
case $build in /*) ;; *) build=$top/$build ;; esac
out=$top/bench/out/speed
runs=${RUNS:-5}
pf_runs=${PYFLAKES_RUNS:-3}
ruff_runs=${RUFF_RUNS:-3}
strata=$build/strata
py=/usr/bin/python3
hyperfine=${HYPERFINE-hyperfine}

mkdir -p "$out"
rm -f "$out"/*.json
"$top/bench/stdlib_files.sh" "$root" >"$out/corpus.txt" 2>"$out/corpus.count"
cat "$out/corpus.count"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
# Other work on the machine skews every ratio, --jobs 2 most: say so. The
# load average lags by a minute, so measure the CPU use of the last second.
cpu_busy() {
    local a b
    a=($(head -1 /proc/stat))
    sleep 1
    b=($(head -1 /proc/stat))
    awk -v n="$(nproc)" -v a="${a[*]:1}" -v b="${b[*]:1}" 'BEGIN {
        split(a, x); split(b, y); tot = 0
        for (i in x) tot += y[i] - x[i]
        idle = (y[4] - x[4]) + (y[5] - x[5])
        printf "%.2f", (tot > 0 ? n * (tot - idle) / tot : 0) }'
}
busy=$(cpu_busy)
echo "cores busy with other work before the run: $busy"
if awk -v b="$busy" 'BEGIN { exit !(b >= 0.3) }'; then
    echo "warning: the machine is busy; timings (above all --jobs 2) will be off" >&2
fi

# Warm the page cache: every timed run below finds the files in memory.
tr '\n' '\0' <"$out/corpus.txt" | xargs -0 cat >/dev/null

# The file list as shell words, for hyperfine's command strings.
quoted=$(while IFS= read -r f; do printf '%q ' "$f"; done <"$out/corpus.txt")

# time_cmd NAME RUNS COMMAND-STRING: best of RUNS, into $out/NAME.json.
# Exit status 0 or 1 is a normal run (1: diagnostics found); others are
# recorded so that the report can refuse to use a crashed run.
time_cmd() {
    local name=$1 n=$2 cmd=$3
    echo "timing $name ($n runs)" >&2
    if [ -n "$hyperfine" ] && command -v "$hyperfine" >/dev/null 2>&1; then
        "$hyperfine" -i -w 1 -r "$n" --style none --export-json "$out/$name.raw.json" \
            "$cmd" >/dev/null
        "$py" - "$out/$name.raw.json" "$out/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
json.dump({"seconds": r["min"], "mean": r["mean"], "stddev": r.get("stddev"),
           "runs": r["times"], "exit_codes": r.get("exit_codes", [])}, open(sys.argv[2], "w"))
PY
    else
        local times=() codes=() t0 t1 rc i
        bash -c "$cmd" >/dev/null 2>&1 || true
        for ((i = 0; i < n; i++)); do
            t0=$(date +%s%N)
            rc=0
            bash -c "$cmd" >/dev/null 2>&1 || rc=$?
            t1=$(date +%s%N)
            times+=("$((t1 - t0))")
            codes+=("$rc")
        done
        "$py" - "$out/$name.json" "${times[*]}" "${codes[*]}" <<'PY'
import json, sys
t = [int(x) / 1e9 for x in sys.argv[2].split()]
json.dump({"seconds": min(t), "mean": sum(t) / len(t), "stddev": None, "runs": t,
           "exit_codes": [int(x) for x in sys.argv[3].split()]}, open(sys.argv[1], "w"))
PY
    fi
}

# time_pair NAME1 NAME2 RUNS CMD1 CMD2: the two commands in alternation,
# best of RUNS each. On a shared machine the speed of a core drifts over
# seconds; timing all runs of one command and then all of the other puts
# the drift into their ratio, alternating keeps it out.
time_pair() {
    local n1=$1 n2=$2 n=$3 c1=$4 c2=$5 t1=() t2=() k1=() k2=() a b rc i
    echo "timing $n1 and $n2 in alternation ($n runs each)" >&2
    bash -c "$c1" >/dev/null 2>&1 || true
    bash -c "$c2" >/dev/null 2>&1 || true
    for ((i = 0; i < n; i++)); do
        a=$(date +%s%N); rc=0; bash -c "$c1" >/dev/null 2>&1 || rc=$?; b=$(date +%s%N)
        t1+=("$((b - a))"); k1+=("$rc")
        a=$(date +%s%N); rc=0; bash -c "$c2" >/dev/null 2>&1 || rc=$?; b=$(date +%s%N)
        t2+=("$((b - a))"); k2+=("$rc")
    done
    for pair in "$n1|${t1[*]}|${k1[*]}" "$n2|${t2[*]}|${k2[*]}"; do
        IFS='|' read -r name times codes <<<"$pair"
        "$py" - "$out/$name.json" "$times" "$codes" <<'PY'
import json, sys
t = [int(x) / 1e9 for x in sys.argv[2].split()]
json.dump({"seconds": min(t), "mean": sum(t) / len(t), "stddev": None, "runs": t,
           "exit_codes": [int(x) for x in sys.argv[3].split()]}, open(sys.argv[1], "w"))
PY
    done
}

# (a) parse+walk vs scan, in memory. CMake puts bench programs in bench/.
scan_bench=$build/bench/scan_bench
[ -x "$scan_bench" ] || scan_bench=$build/scan_bench
if [ -x "$scan_bench" ]; then
    echo "timing scan_bench (best of 3 each)" >&2
    "$scan_bench" --json --reps 3 --list "$out/corpus.txt" >"$out/scan_bench.json" ||
        echo "scan_bench failed (status $?)" >&2
else
    echo "no $build/bench/scan_bench: parse+walk and scan rates are n/a" >&2
fi

# (b) wall times of the command line tools.
if [ -x "$strata" ]; then
    time_pair strata_j1 strata_j2 "$runs" \
        "$strata check --jobs 1 ${STRATA_ARGS---no-cache} $quoted" \
        "$strata check --jobs 2 ${STRATA_ARGS---no-cache} $quoted"
else
    echo "no $strata: strata wall times are n/a" >&2
fi
if [ -x /usr/bin/pyflakes3 ]; then
    time_cmd pyflakes "$pf_runs" "/usr/bin/pyflakes3 $quoted"
else
    echo "no /usr/bin/pyflakes3 (scripts/bench-deps.sh installs it)" >&2
fi
if command -v node >/dev/null 2>&1 &&
    [ -d "$top/.deps/node/node_modules/@astral-sh/ruff-wasm-nodejs" ]; then
    echo "timing ruff-wasm ($ruff_runs node processes, 3 passes each)" >&2
    : >"$out/ruff.jsonl"
    for ((i = 0; i < ruff_runs; i++)); do
        node "$top/bench/ruff_wasm.mjs" --reps 3 --list "$out/corpus.txt" >>"$out/ruff.jsonl"
    done
else
    echo "no ruff-wasm in .deps/node (scripts/bench-deps.sh installs it)" >&2
fi

# (c) ratios and the table.
"$py" "$top/bench/speed_report.py" "$out" "$(nproc)"
