#!/usr/bin/python3
"""twisted_bench.py - the cross-module check with the environment, timed.

In one run, on copies of Twisted's non-test modules (Debian's
python3-twisted: /usr/lib/python3/dist-packages/twisted without its test
directories and test_*.py files) and of a second, small project (default:
Debian's pyflakes package), with one interpreter for both tools (--python,
default /usr/bin/python3):

 1. cold, both sides: strata
      check -q --no-cache --select E0401,E0611,E1101,E1120,E1121,E1123
      --python PY TREE
    and pyright (the pinned npm package) on the same files,
      pyright --outputjson --pythonpath PY FILES...
    alternating, --rounds N times (default 3); the medians and the ratio
    pyright/strata (bar: >= 20);
 2. the stdlib paid once per machine: per round, with a fresh cache
    directory, strata's first check of Twisted (it reads and caches the
    stdlib stubs the project reaches), then the second project with that
    cache, and the second project alone with a fresh cache of its own: the
    ratio second-with-shared-cache / second-fresh shows what the shared
    cache saves;
 3. an unchanged re-check of Twisted on the cache step 2 filled, against
    reading and hashing the project's files, measured as bench/warm_bench
    measures it (its "(a) read + SHA-256" line; it runs on the same file
    list): the ratio re-check / (read+hash) (bar: <= 1.5).
--python is given to strata only when its `check --help` mentions it (a
build from before the environment runs without it; the bench says so).

Usage: twisted_bench.py [--strata PATH] [--rounds N] [--python PY]
           [--src DIR] [--second DIR] [--pyright-bin PATH]
           [--warm-bench PATH] [--keep]
Exit: 0 when it ran (the bars are printed, not judged), 2 when a tool
could not run.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pyright_ref
from inject_faults import copy_tree

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODES = "E0401,E0611,E1101,E1120,E1121,E1123"
TEST_DIRS = {"test", "tests", "__pycache__"}
WARM_A = re.compile(r"^\(a\) read \+ SHA-256.*median\s+([0-9.]+) ms", re.M)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def project_files(src):
    """The non-test .py files under src, relative to its parent (so that the
    package keeps its name), sorted."""
    out = []
    parent = os.path.dirname(src.rstrip("/"))
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in TEST_DIRS)
        for f in filenames:
            full = os.path.join(dirpath, f)
            if f.endswith(".py") and not f.startswith("test_") and not os.path.islink(full):
                out.append(os.path.relpath(full, parent))
    return sorted(out)


def timed(cmd, cwd=None, ok=(0, 1), shared=""):
    """Seconds cmd took; shared is the user's shared cache of library scans
    it gets (STRATA_SHARED_CACHE_DIR; "" none)."""
    env = dict(os.environ, STRATA_SHARED_CACHE_DIR=shared)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t0
    if p.returncode not in ok:
        log("twisted_bench: %s exited %d: %s" % (" ".join(cmd[:6]) + " ...", p.returncode,
                                                 p.stderr.decode()[-2000:]))
        sys.exit(2)
    return dt


def read_hash_ms(warm_bench, strata, tree, files):
    """warm_bench's median read + SHA-256 time of files (ms), or None."""
    if not os.access(warm_bench, os.X_OK):
        return None
    paths = "".join(os.path.join(tree, f) + "\n" for f in files)
    p = subprocess.run([warm_bench, strata, "3"], input=paths.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    m = WARM_A.search(p.stdout.decode())
    if p.returncode != 0 or m is None:
        log("twisted_bench: %s failed: %s" % (warm_bench, p.stderr.decode()[-1000:]))
        return None
    return float(m.group(1))


def med(v):
    return statistics.median(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default=pyright_ref.PYTHON)
    ap.add_argument("--src", default="/usr/lib/python3/dist-packages/twisted")
    ap.add_argument("--second", default="/usr/lib/python3/dist-packages/pyflakes")
    ap.add_argument("--pyright-bin", default=pyright_ref.PYRIGHT)
    ap.add_argument("--warm-bench", default=os.path.join(TOP, "build", "bench", "warm_bench"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    opt = ap.parse_args()

    if opt.rounds < 1:
        log("twisted_bench: --rounds wants at least 1")
        return 2
    for d in (opt.src, opt.second):
        if not os.path.isdir(d):
            log("twisted_bench: no directory %s (scripts/bench-deps.sh installs python3-twisted)"
                % d)
            return 2
    if not os.access(opt.strata, os.X_OK):
        log("twisted_bench: no strata binary at %s (--strata)" % opt.strata)
        return 2
    pyright_ref.check_pyright(opt.pyright_bin, "twisted_bench")
    env = pyright_ref.strata_env_args(opt.strata, opt.python)
    if not env:
        log("twisted_bench: %s has no --python: timing it without an environment" % opt.strata)

    work = tempfile.mkdtemp(prefix="strata-twisted-bench.")
    try:
        tree, tree2 = os.path.join(work, "tree"), os.path.join(work, "second")
        files = project_files(opt.src)
        files2 = project_files(opt.second)
        copy_tree(os.path.dirname(opt.src.rstrip("/")), tree, files)
        copy_tree(os.path.dirname(opt.second.rstrip("/")), tree2, files2)
        nbytes = sum(os.path.getsize(os.path.join(tree, f)) for f in files)
        print("project: %d non-test files of %s, %.1f MB; second project: %d files of %s"
              % (len(files), opt.src, nbytes / 1e6, len(files2), opt.second))
        print("strata: %s %s; pyright %s; %d rounds"
              % (opt.strata, " ".join(env) or "(no --python)",
                 pyright_ref.pyright_version(opt.pyright_bin), opt.rounds))

        check = [opt.strata, "check", "-q", "--select", CODES] + env
        pyright = [opt.pyright_bin, "--outputjson", "--pythonpath", opt.python] + files
        # Untimed: the page cache then holds the files, node's modules and
        # the stubs (pyright on one file reads the builtins' stubs).
        timed(check + ["--no-cache", tree])
        timed(pyright[: len(pyright) - len(files)] + files[:1], cwd=tree)
        cold, pyr = [], []
        for _ in range(opt.rounds):
            cold.append(timed(check + ["--no-cache", tree]))
            pyr.append(timed(pyright, cwd=tree))

        first, second, second_alone, warm = [], [], [], []
        for i in range(opt.rounds):
            # each project its own cache, as by default; the user's shared
            # cache of library scans fresh for the first project
            shared = os.path.join(work, "shared%d" % i)
            first.append(timed(check + ["--cache-dir", os.path.join(work, "cache%d" % i), tree],
                               shared=shared))
            second.append(timed(check + ["--cache-dir", os.path.join(work, "second%d" % i), tree2],
                                shared=shared))
            second_alone.append(timed(check + ["--cache-dir", os.path.join(work, "alone%d" % i),
                                               tree2]))
        for i in range(opt.rounds):
            warm.append(timed(check + ["--cache-dir", os.path.join(work, "cache0"), tree]))
        rh = read_hash_ms(opt.warm_bench, opt.strata, tree, files)

        def row(name, v):
            print("%-44s median %8.1f ms  (%s)"
                  % (name, med(v) * 1e3, " ".join("%.1f" % (x * 1e3) for x in v)))

        row("strata --no-cache, Twisted", cold)
        row("pyright, Twisted", pyr)
        print("pyright / strata = %.1f   (bar: >= 20)" % (med(pyr) / med(cold)))
        row("strata, Twisted, fresh cache (stubs paid)", first)
        row("strata, second project, its cache, shared", second)
        row("strata, second project, no shared cache", second_alone)
        print("second with the shared cache / without = %.2f   (the stubs are not paid again "
              "when it is well below 1)" % (med(second) / med(second_alone)))
        print("Twisted fresh cache / --no-cache = %.2f" % (med(first) / med(cold)))
        row("strata, Twisted, unchanged re-check", warm)
        if rh is None:
            print("read + SHA-256 of the project's files: no %s (build the benches: "
                  "cmake --build build)" % opt.warm_bench)
        else:
            print("%-44s median %8.1f ms  (bench/warm_bench)" % ("read + SHA-256, 1 thread", rh))
            print("re-check / (read+hash) = %.2f   (bar: <= 1.5)" % (med(warm) * 1e3 / rh))
        return 0
    finally:
        if opt.keep:
            log("twisted_bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
