#!/usr/bin/python3
"""scale_bench.py - strata on generated repositories of 10,000 modules and up.

For each size it generates a repository with gen_repo.py (kept under
--data and reused by later runs), then measures with one cache directory:
  cold, no cache    `--no-cache`                      (--runs times)
  cold, memory-only cache  `--durability memory`: the cache's cost without
                    its disk tier (hashing, compression, the memory tier)
  cold, fresh cache an empty cache directory          (--runs times;
                    the three cold steps alternate, so the host's drift
                    stays out of their ratios)
  warm              the same tree again               (--runs times)
  body edit         a statement added in one function (bar: 1 scan, 1 check)
  interface edit    a function added to the module most imported outside
                    import cycles
Each edit is undone after its run (the run after it is not timed). Every
cold run's diagnostics are compared with the generator's expected ones.

Per step it prints the median wall time; the peak resident memory of the
largest process and the sum of every process's peak (strata and its
worker processes: their VmHWM, sampled from /proc every --sample-ms while
the run lasts, so a peak in the last sample interval can be missed; for
strata itself the larger of that and wait4's ru_maxrss, which is the
largest peak of the whole tree); the
bytes written and read to storage by strata and all its children (the
bench's own /proc/self/io before and after the run: Linux adds a reaped
child's I/O counters to its parent's); the cache directory's size on disk
(allocated blocks); and, with --explain, the scans and check jobs that ran.
Then the ratios of the bar: cold with a fresh cache / cold without, and
bytes written / the cache's final size.

Run it on a real disk (it refuses a tmpfs --data: page-cache writes there
never reach a disk, and /proc's write_bytes stays 0).

Usage: scale_bench.py [--strata build/strata] [--sizes 10000,20000]
                      [--data scale-data] [--runs 3] [--sample-ms 100]
                      [-- extra strata check arguments]
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
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_repo  # noqa: E402

SUMMARY = re.compile(r"explain: (\d+) scans ran, (\d+) cached; (\d+) check jobs ran, (\d+) cached")


def fs_type(path):
    """The file system type of the mount holding path, from /proc/mounts."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1].replace("\\040", " ")
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, kind = mnt, parts[2]
    return kind


def self_io():
    out = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v)
    return out


def descendants(root):
    """The pids of root and every process under it (one pass over /proc)."""
    parent = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        parent[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    out, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for c, pp in parent.items():
            if pp == p and c not in out:
                out.add(c)
                frontier.append(c)
    return out


def hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakSampler(threading.Thread):
    """Each process's VmHWM under a root pid, every interval seconds."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peaks = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for p in descendants(self.pid):
                kb = hwm_kb(p)
                if kb is not None and kb > self.peaks.get(p, 0):
                    self.peaks[p] = kb
            self.done.wait(self.interval)


def disk_usage(path):
    total = 0
    for d, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(d, name)).st_blocks * 512
            except OSError:
                pass
    return total


def run_strata(args, repo, cache, extra, sample_s, explain=False):
    cmd = [args.strata, "check", "-q", "--output-format", "concise", "--root", "."]
    # without a cache, a directory that does not exist: no measured costs kept either
    cmd += ["--no-cache", "--cache-dir", os.path.join(repo, ".no-cache")] if cache is None \
        else ["--cache-dir", cache]
    cmd += (["--explain"] if explain else []) + list(extra) + ["."]
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        io0 = self_io()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=repo, stdout=fout, stderr=ferr)
        sampler = PeakSampler(p.pid, sample_s)
        sampler.start()
        # wait4: the exit status and the largest peak of strata and its reaped children
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        sampler.done.set()
        sampler.join()
        io1 = self_io()
        p.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if p.returncode not in (0, 1):
        sys.exit("scale_bench: %s exited %d:\n%s" % (" ".join(cmd), p.returncode, err[-2000:]))
    # the sampler may miss the end of a short run: the root's peak from wait4
    sampler.peaks[p.pid] = max(sampler.peaks.get(p.pid, 0), ru.ru_maxrss)
    peaks = list(sampler.peaks.values())
    r = {"wall": wall, "max_kb": max(peaks), "sum_kb": sum(peaks), "procs": len(sampler.peaks),
         "written": io1["write_bytes"] - io0["write_bytes"],
         "read": io1["read_bytes"] - io0["read_bytes"], "out": out, "err": err}
    m = SUMMARY.search(err)
    if m:
        r["scans"], r["checks"] = int(m.group(1)), int(m.group(3))
    return r


def diagnostics(out):
    got = []
    for line in out.splitlines():
        m = gen_repo.DIAG.match(line)
        if m:
            got.append("%s:%s:%s: %s" % m.groups())
    return sorted(got)


def ensure_repo(data, n):
    repo = os.path.join(data, "repo-%d" % n)
    if not os.path.exists(os.path.join(repo, "manifest.json")):
        shutil.rmtree(repo, ignore_errors=True)
        gen_repo.generate(repo, n, 50, 1, 50)
    with open(os.path.join(repo, "expected.txt")) as f:
        want = sorted(l.rstrip("\n") for l in f if l.strip())
    with open(os.path.join(repo, "manifest.json")) as f:
        return repo, want, json.load(f)


def edit(repo, spec, kind):
    """Applies a manifest edit; returns the original text to put back."""
    path = os.path.join(repo, spec["path"])
    with open(path) as f:
        text = f.read()
    if kind == "body":
        new = text.replace(spec["after"] + "\n", spec["after"] + "\n" + spec["insert"] + "\n", 1)
    else:
        new = text + spec["append"]
    with open(path, "w") as f:
        f.write(new)
    return path, text


def restore(path, text):
    with open(path, "w") as f:
        f.write(text)


def median_row(runs):
    keys = ("wall", "max_kb", "sum_kb", "written", "read")
    row = {k: statistics.median(r[k] for r in runs) for k in keys}
    row["procs"] = max(r["procs"] for r in runs)
    for k in ("scans", "checks"):
        if k in runs[-1]:
            row[k] = runs[-1][k]
    return row


def bench_size(args, n, extra):
    repo, want, man = ensure_repo(args.data, n)
    cache = os.path.join(args.data, "cache-%d" % n)
    sample = args.sample_ms / 1000.0
    rows, nocache, fresh, memory, warm = {}, [], [], [], []
    for _ in range(args.runs):
        r = run_strata(args, repo, None, extra, sample)
        nocache.append(r)
        shutil.rmtree(cache, ignore_errors=True)
        memory.append(run_strata(args, repo, cache, ["--durability", "memory"] + list(extra),
                                 sample))
        shutil.rmtree(cache, ignore_errors=True)
        fresh.append(run_strata(args, repo, cache, extra, sample))
        for r in (nocache[-1], memory[-1], fresh[-1]):
            if diagnostics(r["out"]) != want:
                sys.exit("scale_bench: %d modules: diagnostics differ from expected.txt "
                         "(run gen_repo.py %s --verify STRATA)" % (n, repo))
    rows["cold, no cache"] = median_row(nocache)
    rows["cold, memory-only cache"] = median_row(memory)
    rows["cold, fresh cache"] = median_row(fresh)
    cache_bytes = disk_usage(cache)
    for _ in range(args.runs):
        warm.append(run_strata(args, repo, cache, extra, sample))
    rows["warm"] = median_row(warm)
    for kind, spec in (("body", man["body_edit"]), ("interface", man["interface_edit"])):
        path, text = edit(repo, spec, kind)
        try:
            rows[kind + " edit"] = median_row([run_strata(args, repo, cache, extra, sample,
                                                          explain=True)])
        finally:
            restore(path, text)
        run_strata(args, repo, cache, extra, sample)  # back to the unedited results
    return rows, cache_bytes, man


def mb(x):
    return "%.1f" % (x / 1e6)


def report(n, rows, cache_bytes, man):
    print("\n%d modules (%d packages, %d imports, %d cycles; %d seeded diagnostics found)"
          % (n, man["packages"], man["imports"], man["cycles"], man["expected"]))
    print("| step | wall s | peak RSS MB (largest / sum) | processes | written MB | read MB "
          "| jobs run (scans / checks) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r in rows.items():
        jobs = "%d / %d" % (r["scans"], r["checks"]) if "scans" in r else ""
        print("| %s | %.2f | %s / %s | %d | %s | %s | %s |"
              % (name, r["wall"], mb(r["max_kb"] * 1024), mb(r["sum_kb"] * 1024), r["procs"],
                 mb(r["written"]), mb(r["read"]), jobs))
    cold, fresh = rows["cold, no cache"], rows["cold, fresh cache"]
    print("cache on disk after the cold run: %s MB" % mb(cache_bytes))
    print("ratio cold fresh cache / cold no cache: %.2f (bar <= 1.15); memory-only cache / "
          "no cache: %.2f" % (fresh["wall"] / cold["wall"],
                              rows["cold, memory-only cache"]["wall"] / cold["wall"]))
    print("ratio bytes written / cache size: %.2f (bar <= 3)"
          % (fresh["written"] / max(cache_bytes, 1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strata", default="build/strata")
    ap.add_argument("--sizes", default="10000,20000")
    ap.add_argument("--data", default="scale-data")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample-ms", type=int, default=100)
    ap.add_argument("extra", nargs="*", help="more strata check arguments (after --)")
    args = ap.parse_args()
    args.strata = os.path.abspath(args.strata)
    args.data = os.path.abspath(args.data)
    if args.runs < 1 or args.sample_ms < 10:
        ap.error("--runs must be at least 1 and --sample-ms at least 10")
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes: comma-separated module counts")
    os.makedirs(args.data, exist_ok=True)
    kind = fs_type(args.data)
    if kind in ("tmpfs", "ramfs"):
        sys.exit("scale_bench: %s is on %s: writes never reach a disk; use --data on a disk"
                 % (args.data, kind))
    print("scale_bench: %s, data in %s (%s), %d runs a step, extra arguments: %s"
          % (args.strata, args.data, kind, args.runs, " ".join(args.extra) or "none"))
    for n in sizes:
        rows, cache_bytes, man = bench_size(args, n, args.extra)
        report(n, rows, cache_bytes, man)
    return 0


if __name__ == "__main__":
    sys.exit(main())
