#!/usr/bin/python3
"""pylint_compare.py - strata's cross-module checks against pylint's.

Runs strata on the standard library (or --root DIR) with
  --select E0611,E1101,E1120,E1121,E1123
and compares with pylint's messages of the same codes, read from a file
pylint wrote earlier (--pylint-output, parseable format) or from a run of
pylint this script starts:
  cd ROOT && nice -n 10 pylint --disable=all --enable=CODES
      --output-format=parseable --jobs=1 --recursive=y
      --ignore=test,tests,idle_test,site-packages,dist-packages .
Both tools see the same files: the .py files bench/stdlib_files.sh lists
(directories named test, tests, idle_test, site-packages or dist-packages
left out, and symbolic links); strata gets the same names as --exclude and
any diagnostic outside the list is dropped from either side.

Entries match on (path, line, code). pylint puts an E1101 on the line of the
attribute, strata on the line where the use starts: an E1101 of strata
that has no pylint entry on its line also matches a pylint E1101 naming the
same module and member inside the same statement.

pylint's E1101 covers classes and instances too ("Instance of 'C' has no
..."); strata's only modules, so only "Module '...'" messages are in scope.
pylint's call checks cover methods and classes; strata's only functions of
project modules: the pylint-only counts are shown, not judged.

Prints per code: strata's count, pylint's (all, and in scope), both,
strata-only, pylint-only; then every strata-only entry, marked when
bench/pylint_explained.txt (lines `path:line:code  reason`, # comments)
explains it.

Usage: pylint_compare.py [--strata PATH] [--root DIR] [--pylint-output FILE]
                         [--rerun] [--explained FILE] [--show N]
--pylint-output FILE is read when it exists, else pylint runs and writes it
(without it, pylint runs into a temporary file); --rerun runs pylint even
when FILE exists.
Exit: 0 when every strata-only entry is explained, 1 when one is not, 2
when a tool could not run.
"""

import argparse
import ast
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODES = ["E0611", "E1101", "E1120", "E1121", "E1123"]
SKIP_DIRS = ["test", "tests", "idle_test", "site-packages", "dist-packages"]
PYLINT_RE = re.compile(r"^(.+?):(\d+): \[([A-Z]\d+)\([a-z0-9-]+\), [^\]]*\] (.*)$")
STRATA_RE = re.compile(r"^(.+?):(\d+):(\d+): ([A-Z]+\d+) (.*)$")
MEMBER_RE = re.compile(r"^Module '([^']+)' has no '([^']+)' member")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def norm(path):
    while path.startswith("./"):
        path = path[2:]
    return path


def corpus(root):
    """The files both tools are judged on, relative to root."""
    script = os.path.join(TOP, "bench", "stdlib_files.sh")
    p = subprocess.run(["bash", script, root], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        log("pylint_compare: %s failed: %s" % (script, p.stderr.decode()))
        sys.exit(2)
    prefix = root.rstrip("/") + "/"
    return set(
        line[len(prefix) :] for line in p.stdout.decode().splitlines() if line.startswith(prefix)
    )


def run_pylint(root, out_path, codes=CODES, pylint=("pylint",), jobs=1, fmt="parseable",
               fatal_ok=False):
    """Runs pylint (the command pylint, e.g. ("/usr/bin/python3", "-m",
    "pylint")) on root into out_path in the format fmt. fatal_ok: a fatal
    message (a file astroid could not read) does not stop the bench."""
    cmd = [
        "nice",
        "-n",
        "10",
        *pylint,
        "--disable=all",
        "--enable=" + ",".join(codes),
        "--output-format=" + fmt,
        "--jobs=%d" % jobs,
        "--recursive=y",
        "--ignore=" + ",".join(SKIP_DIRS),
        ".",
    ]
    log("pylint_compare: running pylint on %s (about a minute per 300K lines)" % root)
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        p = subprocess.run(cmd, cwd=root, stdout=out, stderr=subprocess.PIPE)
    # pylint's exit status is a bit mask of the message kinds it emitted;
    # 1 (fatal) and 32 (usage error) mean it did not do its job.
    if p.returncode & (32 if fatal_ok else 33):
        log("pylint_compare: pylint exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
        sys.exit(2)
    log("pylint_compare: pylint took %.0f s" % (time.monotonic() - t0))


def read_pylint(path, files):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = PYLINT_RE.match(line.rstrip("\n"))
            if not m or m.group(3) not in CODES:
                continue
            p = norm(m.group(1))
            if p in files:
                out.append((p, int(m.group(2)), m.group(3), m.group(4)))
    return out


def run_strata(strata, root, files, codes=CODES, extra=()):
    """strata's diagnostics on root, limited to files: (path, line, code,
    message); extra: more options (an environment)."""
    base = [strata, "check", "-q", "--no-cache", "--select", ",".join(codes), *extra]
    for d in SKIP_DIRS:
        base += ["--exclude", d]
    cmd = base + ["--root", ".", "."]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 2 and b"unknown option '--root'" in p.stderr:
        log("pylint_compare: this strata has no --root; running without it")
        p = subprocess.run(base + ["."], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        log("pylint_compare: strata exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
        sys.exit(2)
    log("pylint_compare: strata took %.1f s" % (time.monotonic() - t0))
    out = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        m = STRATA_RE.match(line)
        if not m:
            continue
        path = norm(m.group(1))
        if path in files:
            out.append((path, int(m.group(2)), m.group(4), m.group(5)))
    return out


def read_explained(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, reason = line.partition(" ")
            parts = key.rsplit(":", 2)
            if len(parts) != 3 or not parts[1].isdigit() or not reason.strip():
                log("pylint_compare: %s:%d: want 'path:line:code  reason'" % (path, n))
                sys.exit(2)
            out[(norm(parts[0]), int(parts[1]), parts[2])] = reason.strip()
    return out


class Statements:
    """The innermost statement around a line, per file (parsed on demand)."""

    def __init__(self, root):
        self.root = root
        self.spans = {}

    def span(self, path, line):
        if path not in self.spans:
            spans = []
            try:
                with open(os.path.join(self.root, path), "rb") as f:
                    tree = ast.parse(f.read())
                for n in ast.walk(tree):
                    if isinstance(n, ast.stmt):
                        spans.append((n.lineno, n.end_lineno))
            except (OSError, SyntaxError, ValueError):
                pass
            self.spans[path] = spans
        best = None
        for a, b in self.spans[path]:
            if a <= line <= b and (best is None or b - a < best[1] - best[0]):
                best = (a, b)
        return best


def in_scope(entry, project_modules):
    """Whether a pylint entry is of a kind strata reports at all."""
    path, line, code, msg = entry
    if code == "E1101":
        m = MEMBER_RE.match(msg)
        return m is not None and m.group(1) in project_modules
    if code == "E0611":
        m = re.match(r"^No name '[^']+' in module '([^']+)'", msg)
        return m is not None and m.group(1) in project_modules
    return True


def module_names(files):
    out = set()
    for rel in files:
        base = rel[: rel.rindex(".")].split("/")
        if base[-1] == "__init__":
            base = base[:-1]
        if base:
            out.add(".".join(base))
        for i in range(1, len(base)):
            out.add(".".join(base[:i]))  # packages, namespace ones too
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--root", default="/usr/lib/python3.11")
    ap.add_argument("--pylint-output")
    ap.add_argument("--rerun", action="store_true")
    ap.add_argument("--explained", default=os.path.join(TOP, "bench", "pylint_explained.txt"))
    ap.add_argument("--show", type=int, default=200, help="strata-only entries to list")
    opt = ap.parse_args()

    root = os.path.abspath(opt.root)
    if not os.path.isdir(root):
        log("pylint_compare: no directory %s" % root)
        return 2
    if not os.access(opt.strata, os.X_OK):
        log("pylint_compare: no strata binary at %s (--strata)" % opt.strata)
        return 2
    files = corpus(root)
    tmp = None
    out_path = opt.pylint_output
    if out_path is None:
        tmp = tempfile.NamedTemporaryFile(prefix="pylint-", suffix=".txt", delete=False)
        tmp.close()
        out_path = tmp.name
    try:
        if opt.rerun or opt.pylint_output is None or not os.path.exists(out_path):
            run_pylint(root, out_path)
        else:
            log("pylint_compare: reading pylint's output from %s" % out_path)
        pyl = read_pylint(out_path, files)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    st = run_strata(opt.strata, root, files)
    explained = read_explained(opt.explained)
    modules = module_names(files)
    stmts = Statements(root)

    pyl_keys = collections.defaultdict(list)
    for e in pyl:
        pyl_keys[e[:3]].append(e)
    used = set()
    matched = []
    strata_only = []
    for e in sorted(set(st)):
        key = e[:3]
        if key in pyl_keys and key not in used:
            used.add(key)
            matched.append(e)
            continue
        hit = None
        if e[2] == "E1101":
            m = MEMBER_RE.match(e[3])
            span = stmts.span(e[0], e[1])
            if m and span:
                for p in pyl:
                    if p[0] == e[0] and p[2] == "E1101" and span[0] <= p[1] <= span[1]:
                        pm = MEMBER_RE.match(p[3])
                        if pm and pm.groups() == m.groups() and p[:3] not in used:
                            hit = p
                            break
        if hit is not None:
            used.add(hit[:3])
            matched.append(e)
        else:
            strata_only.append(e)

    print("root: %s (%d files)" % (root, len(files)))
    print("%-6s %7s %7s %9s %6s %11s %11s %16s" % (
        "code", "strata", "pylint", "in-scope", "both", "strata-only", "pylint-only",
        "pylint-only-scope"))
    by = lambda seq, c: [x for x in seq if x[2] == c]
    for c in CODES:
        p_all = by(pyl, c)
        p_scope = [x for x in p_all if in_scope(x, modules)]
        both = len(by(matched, c))
        p_only = [x for x in p_all if x[:3] not in used]
        p_only_scope = [x for x in p_only if in_scope(x, modules)]
        print("%-6s %7d %7d %9d %6d %11d %11d %16d" % (
            c, len(by(st, c)), len(p_all), len(p_scope), both, len(by(strata_only, c)),
            len(p_only), len(p_only_scope)))
    unexplained = [e for e in strata_only if e[:3] not in explained]
    if strata_only:
        print("\nstrata-only (%d, %d explained):" % (len(strata_only),
                                                      len(strata_only) - len(unexplained)))
        for e in strata_only[: opt.show]:
            why = explained.get(e[:3])
            print("  %s:%d: %s %s%s" % (e[0], e[1], e[2], e[3],
                                        "   [explained: %s]" % why if why else ""))
    print("\nunexplained strata-only entries: %d" % len(unexplained))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
