#!/usr/bin/env python3
"""ab.py - two builds of strata, the same benches, in alternation.

A change that must not cost speed (a refactor, say) is judged by running
the benches on the build before it (A) and the build after it (B), one
after the other, several times over: the machine may be shared and its
speed drifts, and alternating spreads the drift over both sides. Each
alternation runs, for A then B (or B then A on odd rounds):
  speed    bench/speed.sh's strata measurement: a cold process of
           `strata check --no-cache --jobs 1` and `--jobs 2` on the corpus
           (bench/stdlib_files.sh);
  scan     bench/scan_bench: the single-thread scanner rate (MB/s);
  warm     bench/warm_bench with one run: the cold and the warm check;
  incr     bench/incr_bench.py with one run: cold, unchanged, body edit,
           interface edit;
  workers  bench/workers_bench.sh's five configurations, one cold run each
           (its memory and --explain part left out).
It prints, for every measurement, the median of each side and B/A (times:
above 1 is slower; the scan rate is inverted so that above 1 is slower
too), and flags any ratio over --limit (default 1.03).

Usage: ab.py BUILD_A BUILD_B [--rounds N] [--only speed,warm,...]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def corpus():
    out = subprocess.run(["bash", os.path.join(HERE, "stdlib_files.sh")],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def timed(cmd, **kw):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    dt = time.monotonic() - t0
    if r.returncode > 1:
        raise RuntimeError("%s exited %d" % (cmd[0], r.returncode))
    return dt * 1000.0


def run_speed(build, files):
    s = os.path.join(build, "strata")
    return {
        "speed: check -j1 (ms)": timed([s, "check", "--jobs", "1", "--no-cache"] + files),
        "speed: check -j2 (ms)": timed([s, "check", "--jobs", "2", "--no-cache"] + files),
    }


def run_scan(build, files):
    exe = os.path.join(build, "bench", "scan_bench")
    if not os.path.exists(exe):
        return {}
    out = subprocess.run([exe], input="\n".join(files) + "\n", capture_output=True,
                         text=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.search(r"scanner_run.*?([0-9.]+) MB/s", line)
        if m:
            res["scan: scanner_run (s/MB)"] = 1.0 / float(m.group(1))
    return res


def run_warm(build, files):
    exe = os.path.join(build, "bench", "warm_bench")
    out = subprocess.run([exe, os.path.join(build, "strata"), "1"],
                         input="\n".join(files) + "\n", capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r"(.+?)\s+median\s+([0-9.]+) ms", line)
        if m:
            res["warm: %s (ms)" % m.group(1).strip()] = float(m.group(2))
    return res


def run_incr(build, files):
    out = subprocess.run([PY, os.path.join(HERE, "incr_bench.py"), "--strata",
                          os.path.join(build, "strata"), "--runs", "1"],
                         capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r"(cold|unchanged|body edit|interface edit|reverted):\s+([0-9.]+) ms", line)
        if m:
            res["incr: %s (ms)" % m.group(1)] = float(m.group(2))
    return res


WORKER_CONFIGS = [("inproc_j1", ["--no-workers", "-j", "1"]),
                  ("inproc_j2", ["--no-workers", "-j", "2"]),
                  ("w1x1", ["--workers", "1", "-j", "1"]),
                  ("w2x1", ["--workers", "2", "-j", "1"]), ("default", [])]
EXCLUDES = ["--exclude", "site-packages", "--exclude", "dist-packages", "--exclude", "test",
            "--exclude", "tests", "--exclude", "idle_test"]


def run_workers(build, files):
    # workers_bench.sh's five configurations, one cold run each, on its
    # corpus (the stdlib's root with its excludes); its memory and
    # --explain part is left out
    s = os.path.join(build, "strata")
    res = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, STRATA_CACHE_DIR=cache)  # the dispatch cost record only
        for name, args in WORKER_CONFIGS:
            res["workers: %s (ms)" % name] = timed(
                [s, "check", "-q", "--no-cache"] + args + EXCLUDES + ["/usr/lib/python3.11"],
                env=env)
    return res


BENCHES = {"speed": run_speed, "scan": run_scan, "warm": run_warm, "incr": run_incr,
           "workers": run_workers}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default=",".join(BENCHES))
    ap.add_argument("--limit", type=float, default=1.03)
    args = ap.parse_args()
    builds = {"A": os.path.abspath(args.a), "B": os.path.abspath(args.b)}
    for side, b in builds.items():
        if not os.access(os.path.join(b, "strata"), os.X_OK):
            sys.exit("ab: no strata in %s" % b)
    files = corpus()
    names = [n for n in args.only.split(",") if n]
    samples = {"A": {}, "B": {}}
    for r in range(args.rounds):
        order = ["A", "B"] if r % 2 == 0 else ["B", "A"]
        for name in names:
            for side in order:
                for k, v in BENCHES[name](builds[side], files).items():
                    samples[side].setdefault(k, []).append(v)
        print("round %d of %d done" % (r + 1, args.rounds), file=sys.stderr, flush=True)
    print("A = %s\nB = %s\n%d rounds, medians\n" % (builds["A"], builds["B"], args.rounds))
    print("| measurement | A | B | B/A |")
    print("|---|---:|---:|---:|")
    worst = 0.0
    for k in samples["A"]:
        if k not in samples["B"]:
            continue
        a = statistics.median(samples["A"][k])
        b = statistics.median(samples["B"][k])
        ratio = b / a if a > 0 else float("nan")
        worst = max(worst, ratio)
        flag = "  <-- over %.2f" % args.limit if ratio > args.limit else ""
        fmt = "%.4f" if "s/MB" in k else "%.1f"
        print(("| %s | " + fmt + " | " + fmt + " | %.3f |%s") % (k, a, b, ratio, flag))
    print("\nworst B/A: %.3f (limit %.2f)" % (worst, args.limit))
    return 0 if worst <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
