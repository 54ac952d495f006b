"""pyright_ref.py - pyright as a reference for strata's cross-module codes.

Shared by bench/inject_faults.py (--pyright), bench/precision_compare.py
and bench/twisted_bench.py: where the pinned pyright is (npm, installed by
scripts/bench-deps.sh into .deps/node), how it is run (JSON output, one
named interpreter through --pythonpath), how its diagnostics map onto
strata's codes, and which environment flags a given strata binary takes.

pyright's rules map onto strata's codes by rule and message:
  reportAttributeAccessIssue '"x" is unknown import symbol'      -> E0611
  reportAttributeAccessIssue '"x" is not a known attribute of module "m"'
                                                                  -> E1101
  reportAttributeAccessIssue 'Cannot access attribute "x" for class "C*"'
                                                                  -> E1101
  reportCallIssue 'Expected N positional argument(s)'            -> E1121
  reportCallIssue 'Argument(s) missing for parameter(s) ...'     -> E1120
  reportCallIssue 'No parameter named "x"'                       -> E1123
  reportCallIssue 'No overloads for "f" match ...'               -> CALL
  reportMissingImports 'Import "x" could not be resolved'         -> E0401
CALL stands for any of E1120, E1121, E1123: pyright names no cause when no
overload of a function accepts a call. Everything else maps to None.
"""

import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYRIGHT = os.path.join(TOP, ".deps", "node", "node_modules", ".bin", "pyright")
TYPESHED = os.path.join(
    TOP, ".deps", "node", "node_modules", "pyright", "dist", "typeshed-fallback", "stdlib"
)
PYTHON = "/usr/bin/python3"
CALL_CODES = ("E1120", "E1121", "E1123")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pyright_code(rule, message):
    """strata's code for one pyright diagnostic, "CALL", or None."""
    if rule == "reportAttributeAccessIssue":
        if "is unknown import symbol" in message:
            return "E0611"
        if "is not a known attribute of module" in message:
            return "E1101"
        if message.startswith("Cannot access attribute"):
            return "E1101"  # of an instance or a class
        return None
    if rule == "reportCallIssue":
        if re.match(r"Expected \d+ positional argument", message):
            return "E1121"
        if message.startswith("Argument missing for parameter") or message.startswith(
            "Arguments missing for parameters"
        ):
            return "E1120"
        if message.startswith("No parameter named"):
            return "E1123"
        if message.startswith("No overloads for"):
            return "CALL"
        return None
    if rule == "reportMissingImports":
        return "E0401"
    return None


def code_matches(pyright, strata):
    """Whether pyright's mapped code confirms strata's code."""
    return pyright == strata or (pyright == "CALL" and strata in CALL_CODES)


def pyright_version(pyright=PYRIGHT):
    p = subprocess.run([pyright, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        return None
    return p.stdout.decode().strip().split()[-1]


def check_pyright(pyright, who):
    """Exits 2 with a message when pyright cannot run."""
    if not os.access(pyright, os.X_OK) or pyright_version(pyright) is None:
        log("%s: no pyright at %s (run scripts/bench-deps.sh, or --pyright-bin)" % (who, pyright))
        sys.exit(2)


def run_pyright(root, files, python=PYTHON, pyright=PYRIGHT, who="pyright_ref", raw_out=None):
    """Runs pyright in root (its project root: local imports resolve there
    first) on files (relative to root) and returns its diagnostics as
    tuples (path relative to root, line 1-based, code or None, rule,
    message). raw_out, when given, receives pyright's JSON as it came."""
    cmd = [pyright, "--outputjson", "--pythonpath", python] + list(files)
    p = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # 0: no error, 1: errors reported; anything else did not check.
    if p.returncode not in (0, 1):
        log("%s: pyright exited %d in %s: %s%s" % (
            who, p.returncode, root, p.stderr.decode()[-2000:], p.stdout.decode()[-2000:]))
        sys.exit(2)
    if raw_out is not None:
        with open(raw_out, "wb") as f:
            f.write(p.stdout)
    return parse_pyright(p.stdout, root)


def parse_pyright(data, root):
    doc = json.loads(data)
    prefix = os.path.realpath(root).rstrip("/") + "/"
    out = []
    for d in doc.get("generalDiagnostics", []):
        path = os.path.realpath(d.get("file", ""))
        if path.startswith(prefix):
            path = path[len(prefix):]
        rule = d.get("rule", "")
        msg = d.get("message", "").split("\n")[0]
        line = d.get("range", {}).get("start", {}).get("line", -1) + 1
        if d.get("severity") != "error":
            continue
        out.append((path, line, pyright_code(rule, msg), rule, msg))
    return out


def strata_env_args(strata, python=PYTHON):
    """["--python", python] when this strata's check knows --python (the
    environment), else [] (a build from before the environment)."""
    p = subprocess.run([strata, "check", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if re.search(rb"--python(?![-\w])", p.stdout):
        return ["--python", python]
    return []
