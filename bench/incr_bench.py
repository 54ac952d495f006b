#!/usr/bin/env python3
"""incr_bench.py - what strata re-runs after an edit, and what it costs.

In one run, on a copy of a tree (default: the standard library, tests
excluded as in stdlib_files.sh), with one cache directory:
  1. cold: an empty cache, every scan and check job runs;
  2. unchanged: the same tree again (bar: at most 5% of the cold time);
  3. body edit: a statement added inside one function of a module, so its
     interface stays the same (bar: exactly 1 scan and 1 check job run);
  4. interface edit: a function added to the most imported module that is
     not in an import cycle (bar: only the check jobs whose inputs changed
     run: that module's and those of the components that import it, and no
     further where their interfaces come out unchanged);
  5. the same edit reverted (the earlier results are still in the cache).
For each step it prints the wall time (median of --runs for the unchanged
re-check) and the counts from `strata check --explain`.

Usage: incr_bench.py [--strata PATH] [--src DIR] [--runs N] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

EXCLUDE = ["site-packages", "dist-packages", "test", "tests", "idle_test"]
SUMMARY = re.compile(r"explain: (\d+) scans ran, (\d+) cached; (\d+) check jobs ran, (\d+) cached")


def copy_tree(src, dst):
    def ignore(_dir, names):
        return [n for n in names if n in EXCLUDE or n == "__pycache__"]

    shutil.copytree(src, dst, ignore=ignore, symlinks=False)


def run(strata, tree, cache, extra=()):
    cmd = [strata, "check", "--explain", "-q", "--cache-dir", cache, *extra, tree]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"incr_bench: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    m = SUMMARY.search(p.stderr)
    if not m:
        sys.exit(f"incr_bench: no explain summary in:\n{p.stderr[-2000:]}")
    scans, scans_cached, checks, checks_cached = map(int, m.groups())
    why = [l for l in p.stderr.splitlines() if l.startswith("explain: check ")]
    return dt, scans, checks, why, p.stdout


def graph(strata, tree, cache):
    p = subprocess.run([strata, "graph", "--cache-dir", cache, tree], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=True)
    return json.loads(p.stdout)


def pick_interface_target(g):
    """The most imported module whose component is a single module."""
    comp_size = {c["id"]: len(c["modules"]) for c in g["components"]}
    importers = {}
    for m in g["modules"]:
        for t in m["imports"]:
            importers.setdefault(t, set()).add(m["name"])
    best = None
    for m in g["modules"]:
        if m["file"] is None or comp_size[m["component"]] != 1 or m["file"].endswith(".pyi"):
            continue
        n = len(importers.get(m["name"], ()))
        if best is None or n > best[0]:
            best = (n, m)
    return best


def expected_reruns(g, target):
    """Components whose job inputs include the target's interface: its own
    and those of the modules that import it directly."""
    comps = {target["component"]}
    for m in g["modules"]:
        if target["name"] in m["imports"]:
            comps.add(m["component"])
    return len(comps)


def body_edit(path):
    """Adds a statement at the end of the first top-level function's body."""
    import ast
    with open(path, encoding="utf-8") as f:
        src = f.read()
    tree = ast.parse(src)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.body:
            last = node.body[-1]
            lines = src.splitlines(keepends=True)
            indent = " " * node.body[0].col_offset
            lines.insert(last.end_lineno, f"{indent}pass\n")
            with open(path, "w", encoding="utf-8") as f:
                f.write("".join(lines))
            return node.name
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--strata", default=os.path.join(here, "..", "build", "strata"))
    ap.add_argument("--src", default="/usr/lib/python3.11")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    strata = os.path.abspath(a.strata)
    work = tempfile.mkdtemp(prefix="strata-incr-")
    tree, cache = os.path.join(work, "tree"), os.path.join(work, "cache")
    try:
        copy_tree(a.src, tree)
        nfiles = sum(1 for _r, _d, fs in os.walk(tree) for f in fs if f.endswith((".py", ".pyi")))
        print(f"incr_bench: {nfiles} files, copy of {a.src} in {tree}")
        cold, scans, checks, _why, cold_out = run(strata, tree, cache)
        print(f"cold:            {cold * 1000:9.1f} ms  scans {scans:5d}  checks {checks:5d}")
        times, ok = [], True
        for _ in range(a.runs):
            dt, scans, checks, why, out = run(strata, tree, cache)
            times.append(dt)
            ok = ok and out == cold_out and scans == 0 and checks == 0
        warm = statistics.median(times)
        print(f"unchanged:       {warm * 1000:9.1f} ms  scans {scans:5d}  checks {checks:5d}"
              f"  ({warm / cold * 100:.1f}% of cold, bar 5%; output "
              f"{'identical' if ok else 'DIFFERENT or jobs ran'})")

        g = graph(strata, tree, cache)
        byname = {m["name"]: m for m in g["modules"]}
        # body edit: a module nobody imports much, with a top-level function
        target = byname.get("textwrap") or next(m for m in g["modules"] if m["file"])
        fn = body_edit(target["file"])
        dt, scans, checks, why, _ = run(strata, tree, cache)
        print(f"body edit:       {dt * 1000:9.1f} ms  scans {scans:5d}  checks {checks:5d}"
              f"  ({target['name']}.{fn}; bar: 1 scan, 1 check)")
        for w in why:
            print("   ", w)

        n_importers, mod = pick_interface_target(g)
        expect = expected_reruns(g, mod)
        with open(mod["file"], encoding="utf-8") as f:
            original = f.read()
        with open(mod["file"], "a", encoding="utf-8") as f:
            f.write("\n\ndef strata_bench_added(x, y=None):\n    return x\n")
        dt, scans, checks, why, _ = run(strata, tree, cache)
        print(f"interface edit:  {dt * 1000:9.1f} ms  scans {scans:5d}  checks {checks:5d}"
              f"  ({mod['name']}, imported by {n_importers} modules; inputs changed for "
              f"{expect} check jobs)")
        reasons = {}
        for w in why:
            r = w.split(": ", 2)[-1]
            reasons[r] = reasons.get(r, 0) + 1
        for r, n in sorted(reasons.items(), key=lambda x: -x[1]):
            print(f"    {n:4d} x {r}")
        with open(mod["file"], "w", encoding="utf-8") as f:
            f.write(original)
        dt, scans, checks, why, _ = run(strata, tree, cache)
        print(f"reverted:        {dt * 1000:9.1f} ms  scans {scans:5d}  checks {checks:5d}"
              f"  (every result was cached before)")
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
