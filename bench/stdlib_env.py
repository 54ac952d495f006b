"""stdlib_env.py - what a standard library module binds, at run time and in
its stub, for bench/inject_faults.py's stdattr and stdargs kinds.

A fault against the standard library is certain only when both views agree:
the module as the interpreter (--python, default /usr/bin/python3) loads it,
and its typeshed stub (pyright's pinned copy, the one pyright checks
against). StdEnv asks the interpreter once, in a child process, about every
module the corpus imports: whether it is in sys.stdlib_module_names, loads,
and is not dynamic (no module-level __getattr__), what dir() lists, and the
signature of each function (inspect.signature, when it has one). It reads
the stubs with ast: every name a stub may bind (all branches, star imports
followed), the stub's own `def`s of each name (all overloads and version
branches), whether it declares a module __getattr__, and typeshed's
VERSIONS file (a module the target version lacks is left out).

Parameters are lists of (name, kind, has_default), kind as in
inspect.Parameter: 0 positional-only, 1 positional-or-keyword, 2 *args,
3 keyword-only, 4 **kwargs.
"""

import ast
import json
import os
import subprocess
import sys

# Importing these has effects beyond loading (a browser, a print, a REPL).
NEVER_IMPORT = {"antigravity", "this", "__main__", "__hello__", "__phello__", "idlelib"}

PROBE = r"""
import importlib, inspect, json, sys, io, contextlib
names = json.load(sys.stdin)
out = {"version": list(sys.version_info[:2]), "modules": {}}
std = set(sys.stdlib_module_names)
for name in names:
    r = {"stdlib": name.split(".")[0] in std}
    out["modules"][name] = r
    if not r["stdlib"]:
        continue
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            m = importlib.import_module(name)
    except BaseException as e:
        r["error"] = type(e).__name__
        continue
    r["dynamic"] = "__getattr__" in vars(m)
    r["names"] = sorted(dir(m))
    funcs = {}
    for a in r["names"]:
        try:
            obj = getattr(m, a)
        except BaseException:
            continue
        if not (inspect.isfunction(obj) or inspect.isbuiltin(obj)):
            continue
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            funcs[a] = None
            continue
        funcs[a] = [[p.name, int(p.kind), p.default is not p.empty]
                    for p in sig.parameters.values()]
    r["funcs"] = funcs
json.dump(out, sys.stdout)
"""


def params_of_ast(args):
    """An ast.arguments as a parameter list. In stubs, a parameter named
    __x (not dunder) is positional-only, the older spelling of `/`."""
    out = []
    pos = args.posonlyargs + args.args
    first_default = len(pos) - len(args.defaults)
    for i, p in enumerate(pos):
        old_style = p.arg.startswith("__") and not p.arg.endswith("__")
        kind = 0 if (i < len(args.posonlyargs) or old_style) else 1
        out.append([p.arg, kind, i >= first_default])
    if args.vararg is not None:
        out.append([args.vararg.arg, 2, False])
    for p, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append([p.arg, 3, d is not None])
    if args.kwarg is not None:
        out.append([args.kwarg.arg, 4, False])
    return out


def binds(params, npos, kwnames):
    """Whether a call with npos positional arguments and the keywords kwnames
    binds to params without error."""
    pos = [p for p in params if p[1] in (0, 1)]
    if npos > len(pos) and not any(p[1] == 2 for p in params):
        return False
    filled = set(p[0] for p in pos[:npos])
    by_kw = set(p[0] for p in params if p[1] in (1, 3))
    var_kw = any(p[1] == 4 for p in params)
    for k in kwnames:
        if k in filled or (k not in by_kw and not var_kw):
            return False
        filled.add(k)
    for p in params:
        if p[1] in (0, 1, 3) and not p[2] and p[0] not in filled:
            return False
    return True


def max_positional(params):
    """How many positional arguments params take, or None with *args."""
    if any(p[1] == 2 for p in params):
        return None
    return sum(1 for p in params if p[1] in (0, 1))


class Stub:
    """One typeshed stub: names, defs, dynamic, submodules."""

    def __init__(self, names, defs, dynamic, subs):
        self.names = names
        self.defs = defs
        self.dynamic = dynamic
        self.subs = subs


def top_level_nodes(tree):
    """The statements of a module outside functions and classes, branches
    of if/try included."""
    todo = list(tree.body)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, ast.If):
            todo.extend(n.body + n.orelse)
        elif isinstance(n, ast.Try):
            todo.extend(n.body + n.orelse + n.finalbody)
            for h in n.handlers:
                todo.extend(h.body)


class StdEnv:
    def __init__(self, python, typeshed, modules, log):
        self.python = python
        self.typeshed = typeshed
        self.log = log
        self.stubs = {}
        self.versions = self.read_versions()
        asked = sorted(m for m in modules if m.split(".")[0] not in NEVER_IMPORT)
        p = subprocess.run(
            [python, "-c", PROBE],
            input=json.dumps(asked).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=600,
        )
        if p.returncode != 0:
            log("stdlib_env: %s could not describe its modules: %s"
                % (python, p.stderr.decode()[-2000:]))
            sys.exit(2)
        doc = json.loads(p.stdout)
        self.version = tuple(doc["version"])
        self.rt = doc["modules"]
        for r in self.rt.values():
            if "names" in r:
                r["names"] = set(r["names"])

    def read_versions(self):
        out = {}
        path = os.path.join(self.typeshed, "VERSIONS")
        try:
            with open(path) as f:
                for line in f:
                    line = line.split("#")[0].strip()
                    if not line or ":" not in line:
                        continue
                    mod, rng = line.split(":", 1)
                    lo, _, hi = rng.strip().partition("-")
                    parse = lambda v: tuple(int(x) for x in v.split(".")) if v else None
                    out[mod.strip()] = (parse(lo), parse(hi))
        except OSError:
            pass
        return out

    def in_versions(self, name):
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            r = self.versions.get(".".join(parts[:i]))
            if r is not None:
                lo, hi = r
                return (lo is None or self.version >= lo) and (hi is None or self.version <= hi)
        return False

    def stub_path(self, name):
        base = os.path.join(self.typeshed, *name.split("."))
        for p in (base + ".pyi", os.path.join(base, "__init__.pyi")):
            if os.path.isfile(p):
                return p
        return None

    def stub(self, name, depth=0):
        """The Stub of module name, or None without a stub that parses."""
        if name in self.stubs:
            return self.stubs[name]
        self.stubs[name] = None  # cycles of star imports end here
        path = self.stub_path(name)
        if path is None or depth > 8:
            return None
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            return None
        is_pkg = path.endswith("__init__.pyi")
        names, defs, dynamic = set(), {}, False
        for n in ast.walk(tree):
            # Every name bound anywhere: a superset of what the module has.
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
            elif isinstance(n, ast.alias) and n.name != "*":
                names.add(n.asname or n.name.split(".")[0])
        for n in top_level_nodes(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if n.name == "__getattr__":
                    dynamic = True
                defs.setdefault(n.name, []).append(params_of_ast(n.args))
            elif isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names):
                if n.level:
                    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = pkg[: len(pkg) - (n.level - 1)] + ([n.module] if n.module else [])
                    target = ".".join(base)
                else:
                    target = n.module
                other = self.stub(target, depth + 1) if target else None
                if other is None:
                    dynamic = True  # names we cannot list
                else:
                    names |= other.names
                    dynamic = dynamic or other.dynamic
        subs = set()
        if is_pkg:
            d = os.path.dirname(path)
            for f in os.listdir(d):
                if f.endswith(".pyi"):
                    subs.add(f[:-4])
                elif os.path.isdir(os.path.join(d, f)):
                    subs.add(f)
        s = Stub(names, defs, dynamic, subs)
        self.stubs[name] = s
        return s

    def usable(self, name):
        """Whether name is a stdlib module that loads, is not dynamic at run
        time nor in its stub, and that the target version has."""
        r = self.rt.get(name)
        if r is None or not r.get("stdlib") or "names" not in r or r.get("dynamic"):
            return False
        if not self.in_versions(name):
            return False
        s = self.stub(name)
        return s is not None and not s.dynamic

    def has(self, name, attr):
        """Whether module name surely has attr: at run time and in its stub."""
        return attr in self.rt[name]["names"] and attr in self.stub(name).names

    def lacks(self, name, attr):
        """Whether module name surely lacks attr: neither at run time nor in
        its stub, nor as a submodule."""
        s = self.stub(name)
        return attr not in self.rt[name]["names"] and attr not in s.names and attr not in s.subs

    def signatures(self, name, attr):
        """(run-time parameters or None, list of the stub's parameter lists)
        of function attr of module name, or None when it is no function or
        has neither."""
        funcs = self.rt[name].get("funcs", {})
        if attr not in funcs:
            return None
        stub_defs = self.stub(name).defs.get(attr, [])
        if funcs[attr] is None and not stub_defs:
            return None
        return funcs[attr], stub_defs
