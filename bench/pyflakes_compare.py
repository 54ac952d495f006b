#!/usr/bin/python3
"""pyflakes_compare.py - agreement of strata with pyflakes on the corpus.

The accuracy bar of strata is agreement with Debian's pyflakes 2.5 on the
standard library, per code, as sets of (file, line, code). This script runs
both tools on the list printed by bench/stdlib_files.sh and prints, per
code, how many each found, how many both found, strata's precision and
recall, and PASS/FAIL against 99%/99% for the codes the bar names.

pyflakes runs in /usr/bin/python3 through its own API (the same code that
/usr/bin/pyflakes3 runs), one process, with a reporter that records the
message class, so codes come from classes and not from parsing messages.
A file on which pyflakes raises is recorded and skipped; if the pyflakes
process dies outright (a crash in C, an OOM kill), it is restarted after the
file it was on, so one bad file never loses the others.

pyflakes itself ignores `# noqa`; strata honours it as flake8 and ruff do,
so by default a pyflakes entry on a line whose `# noqa` comment covers its
code, or in a file with a `# flake8: noqa` line, is dropped (flake8's rule,
counted in the output); --no-noqa keeps it.

Where pyflakes is known to be wrong and strata right, the difference is
shown, not hidden: the raw table counts it as a disagreement, and a second
table counts as agreement only the differences that a rule below explains,
each listed with its file and line. Two rules: pyflakes 2.5 does not read
`__all__.append("x")` / `__all__.extend([...])`, so it calls an import
exported that way unused (F401); strata reads them (tests/data/py/
all_dunder.py). A difference is explained only when the file really adds
that name to __all__ that way (checked with Python's ast). And pyflakes
cannot follow a star import (F405 "may be undefined"); strata's check jobs
resolve them exactly and drop the F405 of a name the star-imported module
binds: explained only when that module, found below the root and read with
Python's ast (following its own star imports three deep, and giving up on
globals()/vars()/exec/__getattr__), binds the name.

Usage: pyflakes_compare.py STRATA [--codes F401,...|all] [--show-diff N]
                           [--root DIR] [--strict] [--jobs N] [--no-noqa]
Exit: 0 when both ran (whatever the numbers, unless --strict), 1 with
--strict when a bar code is under target, 2 when a tool could not run.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAR_CODES = ["F401", "F811", "F821", "F841"]
TARGET = 0.99

# pyflakes message classes to their flake8 codes.
PYFLAKES_CODES = {
    "UnusedImport": "F401",
    "ImportShadowedByLoopVar": "F402",
    "ImportStarUsed": "F403",
    "LateFutureImport": "F404",
    "ImportStarUsage": "F405",
    "ImportStarNotPermitted": "F406",
    "FutureFeatureNotDefined": "F407",
    "PercentFormatInvalidFormat": "F501",
    "PercentFormatExpectedMapping": "F502",
    "PercentFormatExpectedSequence": "F503",
    "PercentFormatExtraNamedArguments": "F504",
    "PercentFormatMissingArgument": "F505",
    "PercentFormatMixedPositionalAndNamed": "F506",
    "PercentFormatPositionalCountMismatch": "F507",
    "PercentFormatStarRequiresSequence": "F508",
    "PercentFormatUnsupportedFormatCharacter": "F509",
    "StringDotFormatInvalidFormat": "F521",
    "StringDotFormatExtraNamedArguments": "F522",
    "StringDotFormatExtraPositionalArguments": "F523",
    "StringDotFormatMissingArgument": "F524",
    "StringDotFormatMixingAutomatic": "F525",
    "FStringMissingPlaceholders": "F541",
    "MultiValueRepeatedKeyLiteral": "F601",
    "MultiValueRepeatedKeyVariable": "F602",
    "TooManyExpressionsInStarredAssignment": "F621",
    "TwoStarredExpressions": "F622",
    "AssertTuple": "F631",
    "IsLiteral": "F632",
    "InvalidPrintSyntax": "F633",
    "IfTuple": "F634",
    "BreakOutsideLoop": "F701",
    "ContinueOutsideLoop": "F702",
    "ContinueInFinally": "F703",
    "YieldOutsideFunction": "F704",
    "ReturnOutsideFunction": "F706",
    "DefaultExceptNotLast": "F707",
    "DoctestSyntaxError": "F721",
    "ForwardAnnotationSyntaxError": "F722",
    "CommentAnnotationSyntaxError": "F723",
    "RedefinedWhileUnused": "F811",
    "UndefinedName": "F821",
    "UndefinedExport": "F822",
    "UndefinedLocal": "F823",
    "DuplicateArgument": "F831",
    "UnusedVariable": "F841",
    "UnusedAnnotation": "F842",
    "RaiseNotImplemented": "F901",
}

# Runs inside /usr/bin/python3. Reads paths on stdin, one per line; for each
# writes a "begin" record, then its messages, as JSON lines, flushed, so the
# parent knows which file a dying process was on.
DRIVER = r"""
import json, sys
import pyflakes.api as api
import pyflakes.reporter as rep

out = sys.stdout
def emit(**kw):
    out.write(json.dumps(kw) + "\n")

class Rec(rep.Reporter):
    def __init__(self):
        pass
    def flake(self, m):
        emit(kind="msg", line=m.lineno, col=getattr(m, "col", 0) or 0,
             cls=type(m).__name__, text=m.message % m.message_args)
    def syntaxError(self, filename, msg, lineno, offset, text):
        emit(kind="msg", line=max(lineno or 1, 1), col=offset or 0, cls="SyntaxError",
             text=str(msg))
    def unexpectedError(self, filename, msg):
        emit(kind="msg", line=1, col=0, cls="UnexpectedError", text=str(msg))

for path in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    path = path.rstrip("\n")
    if not path:
        continue
    emit(kind="begin", path=path)
    out.flush()
    try:
        api.checkPath(path, Rec())
    except BaseException as e:
        emit(kind="crash", text="%s: %s" % (type(e).__name__, str(e)[:200]))
    emit(kind="end")
    out.flush()
"""


def norm(path):
    return os.path.normpath(os.path.abspath(path))


# flake8's `# noqa` comment: bare, or with a list of codes (prefixes match).
NOQA_RE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+[A-Z][0-9]+)*))?",
                     re.IGNORECASE)


FILE_NOQA_RE = re.compile(r"#\s*flake8[:=]\s*noqa\s*$", re.IGNORECASE)


def noqa_covers(path, line, code):
    if any(FILE_NOQA_RE.search(t) for t in read_lines(path)):
        return True
    m = NOQA_RE.search(read_lines(path)[line - 1] if 0 < line <= len(read_lines(path)) else "")
    if m is None:
        return False
    if m.group("codes") is None:
        return True
    return any(code.startswith(c.upper()) for c in re.split(r"[,\s]+", m.group("codes")) if c)


def corpus(root):
    cmd = [os.path.join(TOP, "bench", "stdlib_files.sh")]
    if root:
        cmd.append(root)
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.exit("pyflakes_compare: stdlib_files.sh failed: " + res.stderr.strip())
    return [line for line in res.stdout.split("\n") if line], res.stderr.strip()


def pyflakes_code(cls):
    if cls == "SyntaxError":
        return "E999"
    if cls == "UnexpectedError":
        return "E902"
    return PYFLAKES_CODES.get(cls, "F?" + cls)


def run_pyflakes(python, files):
    """Returns ({(file, line, code): message}, crashes, seconds)."""
    found = {}
    crashes = []
    remaining = list(files)
    t0 = time.monotonic()
    while remaining:
        # The list goes through a file: written to a pipe while pyflakes'
        # output fills the other one, a long list would deadlock.
        with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as lst:
            lst.write("".join(p + "\n" for p in remaining))
        proc = subprocess.Popen([python, "-c", DRIVER, lst.name], stdout=subprocess.PIPE,
                                text=True)
        current = None
        done = 0
        for raw in proc.stdout:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if rec["kind"] == "begin":
                current = rec["path"]
            elif rec["kind"] == "end":
                current = None
                done += 1
            elif rec["kind"] == "crash":
                crashes.append((current, rec["text"]))
            elif current is not None:
                key = (norm(current), rec["line"], pyflakes_code(rec["cls"]))
                found.setdefault(key, rec["text"])
        rc = proc.wait()
        os.unlink(lst.name)
        if current is None and done == len(remaining):
            break
        if done >= len(remaining):
            break
        # The process died on remaining[done]: record it, go on after it.
        crashes.append((remaining[done], "pyflakes process died (status %d)" % rc))
        remaining = remaining[done + 1:]
    return found, crashes, time.monotonic() - t0


def chunks(files, max_bytes=100000):
    batch, size = [], 0
    for f in files:
        if batch and size + len(f) + 1 > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += len(f) + 1
    if batch:
        yield batch


def run_strata(strata, files, select, jobs):
    """Returns ({(file, line, code): message}, seconds) or exits 2."""
    found = {}
    t0 = time.monotonic()
    for batch in chunks(files):
        # pyflakes has no environment: the stdlib and installed packages stay unknown
        cmd = [strata, "check", "--no-cache", "--no-environment", "--format", "json", "--select", select]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        res = subprocess.run(cmd + batch, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode not in (0, 1):
            sys.stderr.write(res.stderr.decode("utf-8", "replace")[-2000:])
            sys.exit("pyflakes_compare: %s exited %d" % (strata, res.returncode))
        try:
            diags = json.loads(res.stdout.decode("utf-8"))
        except ValueError as e:
            sys.exit("pyflakes_compare: strata printed invalid JSON: %s" % e)
        for d in diags:
            key = (norm(d["filename"]), int(d["line"]), d["code"])
            found.setdefault(key, d.get("message", ""))
    return found, time.monotonic() - t0


def all_mutations(path, cache={}):
    """Names a module adds to __all__ with .append(...) or .extend([...])."""
    if path in cache:
        return cache[path]
    import ast
    names = set()
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        tree = None
    for node in ast.walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "__all__"
                and node.func.attr in ("append", "extend") and len(node.args) == 1):
            continue
        arg = node.args[0]
        elts = arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]
        names |= {e.value for e in elts
                  if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    cache[path] = names
    return names


def module_file(name, importer, root):
    """The file of module `name` (may start with dots, relative to the
    importer) below root, or None."""
    import os
    level = len(name) - len(name.lstrip("."))
    parts = name.lstrip(".").split(".") if name.lstrip(".") else []
    if level:
        base = os.path.dirname(importer)
        for _ in range(level - 1):
            base = os.path.dirname(base)
    else:
        base = root
    path = os.path.join(base, *parts) if parts else base
    for cand in (os.path.join(path, "__init__.py"), path + ".py"):
        if os.path.isfile(cand):
            return cand
    return None


def top_level_names(path, root, depth=0, cache={}):
    """Names a module binds at top level (assignments, defs, classes,
    imports, for targets, and star imports of modules below root, followed
    up to three deep), or None when it binds names dynamically
    (globals(), __getattr__, a star import from outside root)."""
    import ast
    if (path, depth) in cache:
        return cache[path, depth]
    cache[path, depth] = None
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("globals", "vars", "exec"):
            return None
    for node in tree.body:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(sub.name)
            elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                for a in sub.names:
                    if a.name == "*":
                        src = module_file("." * (sub.level or 0) + (sub.module or ""), path, root)
                        more = top_level_names(src, root, depth + 1) if src and depth < 3 else None
                        if more is None:
                            return None
                        names |= {n for n in more if not n.startswith("_")}
                    else:
                        names.add((a.asname or a.name).split(".")[0])
    if "__getattr__" in names:
        return None
    cache[path, depth] = names
    return names


def star_defines(path, message, root):
    """For an F405 message, a star-imported module below root that binds
    the name (checked with Python's ast), or None."""
    m = re.match(r"'([^']*)' may be undefined, or defined from star imports: (.*)", message)
    if not m:
        return None
    for src in m.group(2).split(", "):
        f = module_file(src.strip(), path, root)
        names = top_level_names(f, root) if f else None
        if names is not None and m.group(1) in names:
            return src.strip()
    return None


def bound_name(message):
    """The name an F401 message is about: 'a.b as c' -> c, 'a.b' -> b."""
    m = re.match(r"'([^']*)'", message)
    label = m.group(1) if m else ""
    return label.split(" as ")[-1].split(".")[-1]


def explained(key, message, root):
    """Why pyflakes is wrong about key, or None."""
    path, _, code = key
    if code == "F401" and bound_name(message) in all_mutations(path):
        return "exported by __all__.append/.extend, which pyflakes 2.5 does not read"
    if code == "F405":
        src = star_defines(path, message, root)
        if src is not None:
            return "defined: %s binds it (strata resolves star imports exactly)" % src
    return None


def pct(num, den):
    return "%.2f%%" % (100.0 * num / den) if den else "n/a"


def table(codes, pf, st):
    rows = []
    tot = [0, 0, 0]
    failed = []
    for code in codes:
        a = {k for k in pf if k[2] == code}
        b = {k for k in st if k[2] == code}
        both = len(a & b)
        prec = both / len(b) if b else 1.0
        rec = both / len(a) if a else 1.0
        verdict = ""
        if code in BAR_CODES:
            ok = prec >= TARGET and rec >= TARGET
            verdict = "PASS" if ok else "FAIL"
            if not ok:
                failed.append(code)
        rows.append((code, len(a), len(b), both, pct(both, len(b)), pct(both, len(a)), verdict))
        tot[0] += len(a)
        tot[1] += len(b)
        tot[2] += both
    rows.append(("total", tot[0], tot[1], tot[2], pct(tot[2], tot[1]), pct(tot[2], tot[0]), ""))
    head = ("code", "pyflakes", "strata", "both", "precision", "recall", "bar 99/99")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    return failed


def read_lines(path, cache={}):
    if path not in cache:
        try:
            with open(path, "rb") as f:
                cache[path] = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            cache[path] = []
    return cache[path]


def source_line(path, line):
    lines = read_lines(path)
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def show_diff(codes, pf, st, n):
    for code in codes:
        for side, mine, other in (("pyflakes only", pf, st), ("strata only", st, pf)):
            keys = sorted(k for k in mine if k[2] == code and k not in other)
            if not keys:
                continue
            print("\n## %s: %s (%d)" % (code, side, len(keys)))
            for k in keys[:n]:
                print("%s:%d: %s" % (k[0], k[1], mine[k]))
                print("    | %s" % source_line(k[0], k[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("strata", help="path to the strata binary")
    ap.add_argument("--codes", default=",".join(BAR_CODES),
                    help="comma-separated codes, or 'all' for every code either tool printed")
    ap.add_argument("--show-diff", type=int, default=0, metavar="N",
                    help="print up to N differing entries per code and side")
    ap.add_argument("--root", default=None, help="corpus root (default /usr/lib/python3.11)")
    ap.add_argument("--jobs", type=int, default=0, help="--jobs for strata (default: its own)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the Python that has Debian's pyflakes (default /usr/bin/python3)")
    ap.add_argument("--no-noqa", action="store_true",
                    help="keep pyflakes entries on lines whose # noqa covers them")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when a bar code is under 99%% precision or recall")
    args = ap.parse_args()

    if not os.access(args.strata, os.X_OK):
        sys.exit("pyflakes_compare: %s is not an executable" % args.strata)
    probe = subprocess.run([args.python, "-c", "import pyflakes; print(pyflakes.__version__)"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if probe.returncode != 0:
        sys.stderr.write("pyflakes_compare: no pyflakes in %s (run scripts/bench-deps.sh)\n"
                         % args.python)
        sys.exit(2)
    pf_version = probe.stdout.strip()

    files, counts = corpus(args.root)
    files = [norm(f) for f in files]
    all_codes = args.codes == "all"
    codes = [] if all_codes else [c.strip() for c in args.codes.split(",") if c.strip()]
    select = "F,E9" if all_codes else ",".join(codes)

    pf, crashes, pf_secs = run_pyflakes(args.python, files)
    st, st_secs = run_strata(args.strata, files, select, args.jobs)
    if all_codes:
        codes = sorted({k[2] for k in pf} | {k[2] for k in st})
    else:
        pf = {k: v for k, v in pf.items() if k[2] in codes}
    # A file pyflakes crashed on has no reference: leave it out of both sides.
    crashed = {norm(p) for p, _ in crashes if p}
    pf = {k: v for k, v in pf.items() if k[0] not in crashed}
    st = {k: v for k, v in st.items() if k[0] not in crashed}
    dropped = 0
    if not args.no_noqa:
        kept = {k: v for k, v in pf.items() if not noqa_covers(*k)}
        dropped = len(pf) - len(kept)
        pf = kept

    print("pyflakes %s vs strata: %s" % (pf_version, counts.replace("stdlib_files: ", "")))
    print("pyflakes %.2f s, strata %.2f s (wall, whole run)" % (pf_secs, st_secs))
    if dropped:
        print("%d pyflakes entries on # noqa lines dropped, as flake8 would (--no-noqa keeps)"
              % dropped)
    print()
    print("Raw agreement:\n")
    failed = table(codes, pf, st)
    why = {k: explained(k, v, args.root or "/usr/lib/python3.11") for k, v in pf.items() if k not in st}
    why = {k: w for k, w in why.items() if w}
    if why:
        print("\nWith the differences where pyflakes is wrong counted as agreement:\n")
        failed = table(codes, pf, {**st, **{k: pf[k] for k in why}})
        print("\nDifferences explained (pyflakes reports, strata rightly does not):")
        for k in sorted(why):
            print("  %s:%d: %s %s: %s" % (k[0], k[1], k[2], pf[k], why[k]))
    for path, text in crashes:
        print("pyflakes crashed on %s (left out of both sides): %s" % (path, text))
    if args.show_diff > 0:
        show_diff(codes, pf, st, args.show_diff)
    if args.strict and failed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
