#!/usr/bin/python3
"""precision_compare.py - is each cross-module report of strata one that
pylint or pyright also makes?

Runs on a corpus (default: the standard library under /usr/lib/python3.11;
--root /usr/lib/python3/dist-packages for the installed packages), on the
files bench/stdlib_files.sh lists (directories named test, tests,
idle_test, site-packages or dist-packages and symbolic links left out):
  strata  check -q --no-cache --select CODES --python PY  (--python only
          when the binary knows it) --exclude each of those directories
  pylint  PY -m pylint --disable=all --enable=CODES --jobs=2
          --output-format=json --recursive=y, in the corpus root
  pyright --outputjson --pythonpath PY FILES..., in the corpus root (the
          pinned npm package: scripts/bench-deps.sh installs it)
CODES: E0401,E0611,E1101,E1120,E1121,E1123. A strata report is confirmed
  by pylint when pylint makes the same code on the same file and line, and
  by pyright when pyright reports a matching rule there: E0401 import
  resolution (reportMissingImports), E0611 unknown import symbol and E1101
  attribute access (reportAttributeAccessIssue), E1120/E1121/E1123 call
  issue (reportCallIssue);
and, for the codes about a name (E0401, E0611, E1101), when the two
messages quote a common name (pylint quotes with ', pyright with ", strata
with '), so that a report about an instance's attribute does not confirm
one about a module's on the same line;
a report on a line inside a statement of several lines is also confirmed by
one of the tool's matching reports elsewhere in that statement (the tools
place a report at the start of the use or at the attribute's name).

With --baseline STRATA, only the reports that binary does not make (same
file, line and code) are judged: the new ones. Prints per code: strata's
reports, the new ones, those pylint confirms, pyright confirms, either,
and the unconfirmed count; then every unconfirmed report with its source
line.

pylint and pyright take minutes on a large corpus: their raw outputs are
kept in --ref-cache DIR (default bench/out/ref) under a name made of the
tool, its version and a digest of the corpus (root, file list, sizes and
times of the files, interpreter), and read from there on later runs
(--rerun runs them again). --refs-only fills the cache and stops.

Usage: precision_compare.py [--strata PATH] [--baseline PATH] [--root DIR]
           [--python PY] [--pyright-bin PATH] [--ref-cache DIR] [--rerun]
           [--refs-only] [--max-unconfirmed N] [--show N]
Exit: 0 when at most --max-unconfirmed (default 10) judged reports are
unconfirmed, 1 when more, 2 when a tool could not run.
"""

import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import time

import pylint_compare
import pyright_ref

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODES = ["E0401", "E0611", "E1101", "E1120", "E1121", "E1123"]
RULE_OF = {
    "E0401": "reportMissingImports",
    "E0611": "reportAttributeAccessIssue",
    "E1101": "reportAttributeAccessIssue",
    "E1120": "reportCallIssue",
    "E1121": "reportCallIssue",
    "E1123": "reportCallIssue",
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def corpus_key(root, files, python):
    h = hashlib.sha256()
    h.update(("%s\n%s\n" % (root, python)).encode())
    for rel in sorted(files):
        try:
            st = os.stat(os.path.join(root, rel))
            h.update(("%s %d %d\n" % (rel, st.st_size, st.st_mtime_ns)).encode())
        except OSError:
            h.update(("%s -\n" % rel).encode())
    return h.hexdigest()[:16]


def tool_version(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    words = p.stdout.decode("utf-8", "replace").split()
    return words[1].rstrip(",") if len(words) > 1 and p.returncode == 0 else None


def pylint_ref(root, files, opt, key):
    """pylint's reports on the corpus: (path, line, code, message)."""
    version = tool_version([opt.python, "-m", "pylint", "--version"])
    if version is None:
        log("precision_compare: %s -m pylint does not run" % opt.python)
        sys.exit(2)
    path = os.path.join(opt.ref_cache, "pylint-%s-%s.json" % (version, key))
    if opt.rerun or not os.path.exists(path):
        tmp = path + ".part"
        t0 = time.monotonic()
        pylint_compare.run_pylint(root, tmp, CODES, (opt.python, "-m", "pylint"), jobs=2,
                                  fmt="json", fatal_ok=True)
        os.replace(tmp, path)
        log("precision_compare: pylint took %.0f s; kept in %s" % (time.monotonic() - t0, path))
    else:
        log("precision_compare: pylint's reports from %s" % path)
    with open(path, encoding="utf-8", errors="replace") as f:
        doc = json.load(f)
    out = []
    for m in doc:
        rel = pylint_compare.norm(m.get("path", ""))
        if m.get("message-id") in CODES and rel in files:
            out.append((rel, int(m.get("line", 0)), m["message-id"], m.get("message", "")))
    return out


def pyright_ref_run(root, files, opt, key):
    """pyright's errors on the corpus: (path, line, mapped code, rule, message)."""
    version = pyright_ref.pyright_version(opt.pyright_bin)
    path = os.path.join(opt.ref_cache, "pyright-%s-%s.json" % (version, key))
    if opt.rerun or not os.path.exists(path):
        tmp = path + ".part"
        t0 = time.monotonic()
        log("precision_compare: running pyright on %d files in %s" % (len(files), root))
        pyright_ref.run_pyright(root, sorted(files), opt.python, opt.pyright_bin,
                                "precision_compare", raw_out=tmp)
        os.replace(tmp, path)
        log("precision_compare: pyright took %.0f s; kept in %s" % (time.monotonic() - t0, path))
    else:
        log("precision_compare: pyright's reports from %s" % path)
    with open(path, "rb") as f:
        return [d for d in pyright_ref.parse_pyright(f.read(), root) if d[0] in files]


def quoted(msg):
    return set(re.findall(r"'([^']+)'", msg)) | set(re.findall(r'"([^"]+)"', msg))


def names_agree(code, ref_msg, strata_msg):
    if code not in ("E0401", "E0611", "E1101"):
        return True
    return bool(quoted(ref_msg) & quoted(strata_msg))


def judged(strata, baseline):
    """strata's reports that baseline does not make (all without one)."""
    if baseline is None:
        return sorted(set(strata))
    old = set(e[:3] for e in baseline)
    return sorted(set(e for e in strata if e[:3] not in old))


def source_line(root, path, line, cache={}):
    if path not in cache:
        try:
            with open(os.path.join(root, path), "rb") as f:
                cache[path] = f.read().decode("utf-8", "replace").split("\n")
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def confirmer(reports, same, stmts):
    """A function telling whether a strata report (path, line, code, msg) is
    confirmed by reports (tuples starting with path, line, ending with the
    message), of which same(report, strata_code) says whether one matches
    the code."""
    by_file = collections.defaultdict(list)
    for r in reports:
        by_file[r[0]].append(r)

    def confirms(e):
        span = stmts.span(e[0], e[1])
        lo, hi = (e[1], e[1]) if span is None else span
        for r in by_file.get(e[0], ()):
            if (r[1] == e[1] or lo <= r[1] <= hi) and same(r, e[2]) and names_agree(
                e[2], r[-1], e[3]
            ):
                return True
        return False

    return confirms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--baseline", help="judge only the reports this strata does not make")
    ap.add_argument("--root", default="/usr/lib/python3.11")
    ap.add_argument("--python", default=pyright_ref.PYTHON)
    ap.add_argument("--pyright-bin", default=pyright_ref.PYRIGHT)
    ap.add_argument("--ref-cache", default=os.path.join(TOP, "bench", "out", "ref"))
    ap.add_argument("--rerun", action="store_true", help="run pylint and pyright again")
    ap.add_argument("--refs-only", action="store_true",
                    help="fill the cache with pylint's and pyright's outputs and stop")
    ap.add_argument("--max-unconfirmed", type=int, default=10)
    ap.add_argument("--show", type=int, default=300, help="unconfirmed reports to list")
    opt = ap.parse_args()

    root = os.path.abspath(opt.root)
    if not os.path.isdir(root):
        log("precision_compare: no directory %s" % root)
        return 2
    for b in [opt.strata] + ([opt.baseline] if opt.baseline else []):
        if not opt.refs_only and not os.access(b, os.X_OK):
            log("precision_compare: no strata binary at %s" % b)
            return 2
    if not os.access(opt.python, os.X_OK):
        log("precision_compare: no interpreter %s (--python)" % opt.python)
        return 2
    pyright_ref.check_pyright(opt.pyright_bin, "precision_compare")
    os.makedirs(opt.ref_cache, exist_ok=True)
    files = pylint_compare.corpus(root)
    key = corpus_key(root, files, opt.python)
    pyr = pyright_ref_run(root, files, opt, key)
    pyl = pylint_ref(root, files, opt, key)
    if opt.refs_only:
        log("precision_compare: %d pylint and %d pyright reports (%d mapped) on %d files"
            % (len(pyl), len(pyr), sum(1 for d in pyr if d[2] is not None), len(files)))
        return 0

    env = pyright_ref.strata_env_args(opt.strata, opt.python)
    if not env:
        log("precision_compare: %s has no --python; checking without an environment"
            % opt.strata)
    st = pylint_compare.run_strata(opt.strata, root, files, CODES, env)
    base = None
    if opt.baseline:
        base_env = pyright_ref.strata_env_args(opt.baseline, opt.python)
        base = pylint_compare.run_strata(opt.baseline, root, files, CODES, base_env)
    todo = judged(st, base)

    stmts = pylint_compare.Statements(root)
    by_pylint = confirmer(pyl, lambda r, c: r[2] == c, stmts)
    by_pyright = confirmer(pyr, lambda r, c: r[3] == RULE_OF[c], stmts)
    rows = collections.defaultdict(collections.Counter)
    unconfirmed = []
    for e in todo:
        a, b = by_pylint(e), by_pyright(e)
        row = rows[e[2]]
        row["new"] += 1
        row["pylint"] += a
        row["pyright"] += b
        row["either"] += a or b
        if not (a or b):
            unconfirmed.append(e)
    all_st = collections.Counter(e[2] for e in st)

    print("corpus: %s (%d files); strata %s%s" % (
        root, len(files), opt.strata, "; baseline %s" % opt.baseline if opt.baseline else ""))
    print("%-6s %7s %7s %7s %8s %7s %12s" % (
        "code", "strata", "judged", "pylint", "pyright", "either", "unconfirmed"))
    for c in CODES:
        r = rows[c]
        print("%-6s %7d %7d %7d %8d %7d %12d" % (
            c, all_st[c], r["new"], r["pylint"], r["pyright"], r["either"],
            r["new"] - r["either"]))
    print("judged: %s" % ("new relative to the baseline" if opt.baseline else "every report"))
    if unconfirmed:
        print("\nunconfirmed (%d):" % len(unconfirmed))
        for e in unconfirmed[: opt.show]:
            print("  %s:%d: %s %s" % e)
            print("      | %s" % source_line(root, e[0], e[1]))
    ok = len(unconfirmed) <= opt.max_unconfirmed
    print("\nunconfirmed reports: %d (bar: at most %d): %s"
          % (len(unconfirmed), opt.max_unconfirmed, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
