#!/usr/bin/python3
"""inject_faults.py - recall of strata's cross-module checks on planted bugs.

Copies a tree of Python code (default: the CPython standard library under
/usr/lib/python3.11, without the directories bench/stdlib_files.sh leaves
out) twice into a temporary directory, plants faults in the second copy and
runs strata on both copies. Six kinds of fault, each changing one existing
line in place (no line is added or removed, so every other line keeps its
number), at most one of each kind per file:

  name   `from X import a` gets one more name that X does not define: E0611
  attr   `m.a`, m a project module imported with `import X [as m]`, becomes
         `m.b` where X does not define b: E1101
  args   a call of a project function with a fixed number of positional
         parameters gets positional arguments beyond that number: E1121
  kw     a call of a project function without **kwargs gets a keyword that
         is not one of its parameters: E1123
  stdattr  `m.a`, m a standard library module imported with a plain
         module-level `import X [as m]`, becomes `m.ax` (or another suffix)
         where X lacks the name: E1101
  stdargs  a call `m.f(...)` of a function of such a module, with a fixed
         number of positional parameters and no *args, gets positional
         arguments beyond that number: E1121
  selfmeth  (only with --kinds) `self.meth(` in a method of a class at the
         top of its module becomes `self.meth_zq(` (another suffix when the
         module has that name), meth an undecorated def in the body of the
         class or of a base class defined earlier in the same module: E1101
  selfargs  (only with --kinds) such a call, valid before, of a meth with
         a fixed number of positional parameters, gets positional arguments
         beyond that number: E1121. Bases from other modules are not
         planted yet.
  ctorargs  (only with --kinds) a call `C(...)`, valid before, of such a
         class whose __init__ it inherits from a base (one base per class
         up to it, no __new__ on the way; the base of the module, or the one
         base of C imported from a project module; or C itself imported
         from one, its __init__ a base's there) with a fixed number of
         positional parameters, gets positional arguments beyond that
         number: E1121
  instmeth  (only with --kinds) `x.meth(` where `x = C(...)` binds x, and
         nothing else does, in the same function (or, at module level, in
         the whole module), C a class at the top of the module, meth an
         undecorated def of C or of a base defined earlier in the module,
         becomes `x.meth_zq(`: E1101
  instargs  (only with --kinds) such a call, valid before, of a meth with a
         fixed number of positional parameters gets positional arguments
         beyond that number: E1121

Candidate sites are found with Python's ast module, and only where the fault
is certain: the target module is one file (a .py with no .pyi beside it, not
both a module and a package), closed (no star import, no module __getattr__,
no globals()/vars()/exec/setattr/sys.modules, no `global` declaration of the
name), the function is bound exactly once, at the top of the module, not
decorated, not async; the importing file binds the imported name exactly
once, in a plain module-level import; the use is not inside a try statement
nor under a test that calls hasattr()/getattr(); the call has no * or **
argument and is valid before the change; the statement or call fits on one
line; the line has no `# noqa`. A planted name is an existing name with a
suffix, checked against every name the module could bind anywhere and
against its submodules. Each changed file must still compile().

For the two stdlib kinds (bench/stdlib_env.py), X is in the interpreter's
sys.stdlib_module_names (--python, default /usr/bin/python3), imports there,
has no module __getattr__ at run time nor in its typeshed stub (--typeshed,
default the pinned pyright's copy; star imports followed), and typeshed's
VERSIONS gives it to the interpreter's version. stdattr: the attribute
exists at run time (dir()) and in the stub, the planted name in neither
(nor as a submodule); the use fits on one line. stdargs: f is a function at
run time; its run-time signature (inspect.signature, when it has one) and
every `def` of it in the stub (overloads, version branches) take a fixed
number of positional arguments; the call binds to the run-time signature
and to at least one stub `def` before the change, fits on one line, and
gets one None more than the largest of those numbers.

The manifest (JSON: file, line, kind, code, the line before and after) is
written to --manifest (default: manifest.json in the temporary directory).
strata then runs as
  strata check --no-cache --select E0611,E1101,E1120,E1121,E1123
               --python PY --root COPY COPY
on the clean and on the faulted copy (--python only when the binary's
`check --help` mentions it). Per kind it prints how many faults
were planted, how many strata found (the expected code on that file and
line), the recall, and the diagnostics that the faulted copy has and the
clean one has not on lines that were not changed (each is a false alarm
caused by a fault). The bar: recall >= 95% for every kind and no such
diagnostic.

--pyright runs pyright (the pinned npm package; --pyright-bin) with
`--outputjson --pythonpath PY` on the changed files in each copy (each copy
its project root, so that its imports resolve there first) and keeps the
faults pyright reports on the faulted copy and not on the clean one, on the
fault's line, with its code (bench/pyright_ref.py maps pyright's rules:
reportAttributeAccessIssue '... is not a known attribute of module' is
E1101, reportCallIssue 'Expected N positional arguments' is E1121, 'No
overloads for ...' any call code); the manifest marks each fault
"pyright": true or false, and recall is over the confirmed ones. The bar
then also wants at least 30 confirmed faults per kind: raise --per-kind
when fewer are planted.
--pyright-from MANIFEST takes those marks from a manifest an earlier
--pyright run wrote, planted the same way (pyright takes minutes; the
planting is the same for the same tree, --seed, --per-kind and --kinds).

Usage: inject_faults.py [--src DIR] [--seed N] [--per-kind N] [--kinds K,..]
                        [--strata PATH] [--python PY] [--typeshed DIR]
                        [--keep] [--manifest FILE] [--no-run] [--pylint]
                        [--pyright] [--pyright-bin PATH]
                        [--pyright-from MANIFEST]
--kinds plants only the kinds named (default: all but the class kinds);
--no-run stops after planting (the manifest and the copies are kept; with
--pyright, the confirmed counts are printed);
--pylint also runs pylint on the faulted files and reports how many planted
faults it confirms (a check of the planting, independent of strata).
Exit: 0 when the bar is met, 1 when it is not, 2 when something could not
run (a missing tree, strata or pyright failing).
"""

import argparse
import ast
import collections
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import pyright_ref
from stdlib_env import StdEnv, binds, max_positional

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}
KINDS = [
    ("name", "E0611"),
    ("attr", "E1101"),
    ("args", "E1121"),
    ("kw", "E1123"),
    ("stdattr", "E1101"),
    ("stdargs", "E1121"),
    ("selfmeth", "E1101"),
    ("selfargs", "E1121"),
    ("ctorargs", "E1121"),
    ("instmeth", "E1101"),
    ("instargs", "E1121"),
]
STD_KINDS = ("stdattr", "stdargs")
# planted only when asked for (--kinds): the first checks of classes
CLASS_KINDS = ("selfmeth", "selfargs", "ctorargs", "instmeth", "instargs")
PYRIGHT_MIN = 30  # confirmed faults per kind the bar wants
CODES = "E0611,E1101,E1120,E1121,E1123"
RECALL_BAR = 0.95
DIAG_RE = re.compile(r"^(.*?):(\d+):(\d+): ([A-Z]+[0-9]+) (.*)$")
UNKNOWN_KEYWORDS = ("strict_x", "verbose_x", "extra_opt", "kw_unknown")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- the tree ----------------------------------------------------------------


def list_files(src):
    """Relative paths of the .py and .pyi regular files under src, sorted,
    leaving out SKIP_DIRS, hidden directories and symbolic links."""
    out = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and not os.path.islink(os.path.join(dirpath, d))
        )
        for f in filenames:
            full = os.path.join(dirpath, f)
            if (f.endswith(".py") or f.endswith(".pyi")) and not os.path.islink(full):
                if os.path.isfile(full):
                    out.append(os.path.relpath(full, src))
    return sorted(out)


def copy_tree(src, dst, files):
    for rel in files:
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))


def module_name(rel):
    """The dotted module name of a file relative to the root, and whether it
    is a package's __init__."""
    base = rel[: rel.rindex(".")]
    parts = base.split(os.sep)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


# --- what a module binds -----------------------------------------------------


def bound_names(node, out):
    """Adds to the Counter out every name node binds, in any scope."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out[n.id] += 1
        elif isinstance(n, ast.arg):
            out[n.arg] += 1
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[n.name] += 1
        elif isinstance(n, ast.alias):
            if n.asname:
                out[n.asname] += 1
            elif n.name != "*":
                out[n.name.split(".")[0]] += 1
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out[n.name] += 1
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            for name in n.names:
                out[name] += 1
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            out[n.name] += 1
        elif isinstance(n, ast.MatchMapping) and n.rest:
            out[n.rest] += 1


def class_members(cls):
    """The names a class body binds (defs, assignments, imports...)."""
    out = collections.Counter()
    for b in cls.body:
        if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[b.name] += 1
        else:
            bound_names(b, out)
    return out


def class_table(tree, names):
    """The top-level classes of a module: name -> None (bound more than
    once) or {"defs": its undecorated defs, "mro": the defs of it and its
    bases along single bases of the module, "chain": one base each all the
    way, "members": class_members, but for a class with a base from
    elsewhere, decorators or keywords}."""
    classes = {}
    mros = {}  # id(stmt) -> the defs along its MRO, for every class whose bases are the module's
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef):
            continue
        defs = {}
        for b in stmt.body:
            if isinstance(b, ast.FunctionDef) and not b.decorator_list:
                defs[b.name] = b
        bases = [classes.get(b.id) if isinstance(b, ast.Name) else None for b in stmt.bases]
        if None in bases or stmt.keywords or stmt.decorator_list:
            classes[stmt.name] = None if names[stmt.name] != 1 else {
                "defs": defs, "mro": [defs], "chain": False, "stmt": stmt}
            continue
        mro = [defs]
        for b in bases:
            mro += b["mro"] if b is not None else []
        mros[id(stmt)] = mro
        # one base per class all the way: the MRO is that chain
        chain = len(bases) == 0 or (len(bases) == 1 and bases[0]["chain"])
        classes[stmt.name] = {"defs": defs, "mro": mro, "chain": chain, "stmt": stmt,
                              "members": class_members(stmt)} if names[stmt.name] == 1 else None
    classes[None] = mros
    return classes


def imported_init(stmt, c, classvars):
    """For a class whose one base is a class imported from a project
    module (`from m import B`, B at the top of m): the __init__ it inherits
    from there, when sure: the class binds neither __init__ nor __new__,
    and B binds __init__ by an undecorated def (or inherits one as
    inherited_init finds it), B and its bases no __new__."""
    if (len(stmt.bases) != 1 or not isinstance(stmt.bases[0], ast.Name) or stmt.keywords
            or stmt.decorator_list or stmt.bases[0].id not in classvars):
        return None
    own = class_members(stmt)
    if own["__init__"] or own["__new__"]:
        return None
    t, name = classvars[stmt.bases[0].id]
    other = t.class_table()
    b = other.get(name)
    if b is None or "members" not in b or b["members"]["__new__"]:
        return None
    if b["members"]["__init__"]:
        return b["defs"].get("__init__") if b["members"]["__init__"] == 1 else None
    return inherited_init(other, name)


def imported_class_init(t, name):
    """The __init__ that class name of project module t inherits from a
    base of t (inherited_init), or None: its own is no fault's place, since
    a call of a class with an __init__ of its own is the older check's."""
    return inherited_init(t.class_table(), name)


def inherited_init(classes, name):
    """The __init__ class name inherits from a base, when that is sure: a
    chain of single bases of the module, none binding __new__ or binding
    __init__ other than by an undecorated def; None otherwise (its own
    __init__ included: not inherited)."""
    c = classes.get(name)
    if c is None or not c["chain"] or c["members"]["__new__"] or c["members"]["__init__"]:
        return None
    for d in c["mro"][1:]:
        owner = next((k for k in classes.values() if k is not None and k["defs"] is d), None)
        if owner is None or owner["members"]["__new__"]:
            return None
        if owner["members"]["__init__"]:
            init = d.get("__init__")
            return init if owner["members"]["__init__"] == 1 else None
    return None


def module_level_bindings(tree):
    """Counter of the names a module may bind in its own namespace: every
    binding outside function, lambda and class bodies, plus every name a
    function declares global. A superset, on purpose."""
    out = collections.Counter()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out[child.name] += 1
                for d in child.decorator_list:
                    visit_expr(d)
                continue
            if isinstance(child, ast.Lambda):
                continue
            if isinstance(child, ast.Import) or isinstance(child, ast.ImportFrom):
                for a in child.names:
                    if a.asname:
                        out[a.asname] += 1
                    elif a.name != "*":
                        out[a.name.split(".")[0]] += 1
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                out[child.id] += 1
            elif isinstance(child, ast.ExceptHandler) and child.name:
                out[child.name] += 1
            elif isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name:
                out[child.name] += 1
            elif isinstance(child, ast.MatchMapping) and child.rest:
                out[child.rest] += 1
            visit(child)

    def visit_expr(e):
        for n in ast.walk(e):
            if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                out[n.target.id] += 1

    visit(tree)
    for n in ast.walk(tree):
        if isinstance(n, ast.Global):
            for name in n.names:
                out[name] += 1
        elif isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
            # A walrus in a comprehension binds in the enclosing scope; one
            # in a function binds there: counting it here only widens the set.
            out[n.target.id] += 1
    return out


def is_open(tree):
    """Whether the module's namespace may hold names its text does not bind:
    a star import, a module-level __getattr__ or __dir__, globals(), vars()
    without argument, exec(), or its own entry in sys.modules. (Writes into
    other objects' __dict__ or setattr() on them do not count: they cannot
    reach this module's namespace without one of those.)"""
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if stmt.name in ("__getattr__", "__dir__"):
                return True
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names):
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            if n.func.id in ("globals", "exec") or (n.func.id == "vars" and not n.args):
                return True
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute):
            if n.value.attr == "modules":  # sys.modules[...]
                return True
        if isinstance(n, ast.Name) and n.id in ("__getattr__", "__dict__", "__builtins__"):
            return True
    return False


class Module:
    def __init__(self, rel, name, is_pkg, tree, text):
        self.rel = rel
        self.name = name
        self.is_pkg = is_pkg
        self.tree = tree
        self.lines = text.split(b"\n")
        self.bindings = module_level_bindings(tree)
        self.open = is_open(tree)
        self.subs = set()
        self.sure = False  # set once the whole table is known
        self.funcs = {}
        self.classes = set()  # top-level classes, undecorated
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef) and not stmt.decorator_list:
                if self.bindings[stmt.name] == 1:
                    self.funcs[stmt.name] = stmt.args
            if isinstance(stmt, ast.ClassDef) and not stmt.decorator_list:
                self.classes.add(stmt.name)
        self._class_table = None

    def class_table(self):
        """The module's top-level classes as class_table() reads them."""
        if self._class_table is None:
            self._class_table = class_table(self.tree, self.bindings)
            self._class_table.pop(None)
        return self._class_table


def load_modules(root, files):
    mods = {}
    by_name = collections.defaultdict(list)
    for rel in files:
        with open(os.path.join(root, rel), "rb") as f:
            text = f.read()
        try:
            tree = ast.parse(text, filename=rel)
        except (SyntaxError, ValueError):
            continue
        name, is_pkg = module_name(rel)
        if not name or not all(p.isidentifier() for p in name.split(".")):
            continue
        m = Module(rel, name, is_pkg, tree, text)
        mods[rel] = m
        by_name[name].append(m)
    table = {}
    for name, ms in by_name.items():
        # Exactly one file, and that file a .py: a stub beside it would be
        # the interface, a module and a package of one name are ambiguous.
        if len(ms) == 1 and ms[0].rel.endswith(".py"):
            ms[0].sure = not ms[0].open
        table[name] = ms[0] if len(ms) == 1 else None
    # Submodules: every module name, and every directory that holds one.
    for name in list(by_name):
        parts = name.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent in table and table[parent] is not None:
                table[parent].subs.add(parts[i])
    return mods, table


def absolute(mod, level, module):
    """The absolute name of `from <level dots><module> import ...` written in
    mod, or None beyond the top level."""
    if level == 0:
        return module
    pkg = mod.name.split(".") if mod.is_pkg else mod.name.split(".")[:-1]
    if level - 1 > len(pkg) or (level - 1 == len(pkg) and not module):
        return None
    base = pkg[: len(pkg) - (level - 1)]
    if module:
        base = base + module.split(".")
    return ".".join(base) if base else None


def missing_std_name(std, module, like):
    """A name the stdlib module certainly lacks, made from its name like."""
    for suffix in ("x", "_x", "_old", "2"):
        cand = like + suffix
        if std.lacks(module, cand):
            return cand
    return None


def missing_name(target, like, rng):
    """A name target certainly lacks, made from the existing name like."""
    for suffix in ("_x", "_old", "_v2", "_impl2", "_tmp9"):
        cand = (like.rstrip("_") or "name") + suffix
        if cand not in target.bindings and cand not in target.subs:
            return cand
    for _ in range(50):
        cand = "zz_%06d" % rng.randrange(10**6)
        if cand not in target.bindings and cand not in target.subs:
            return cand
    return None


# --- where a fault may go ----------------------------------------------------


def guarded_nodes(tree):
    """ids of the nodes inside a try statement or under a test that calls
    hasattr() or getattr() (strata may stay silent there on purpose), and of
    the nodes inside f-strings and annotations."""
    out = set()

    def mark(node):
        for n in ast.walk(node):
            out.add(id(n))

    def calls_guard(test):
        for n in ast.walk(test):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                if n.func.id in ("hasattr", "getattr"):
                    return True
        return False

    for n in ast.walk(tree):
        if isinstance(n, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            for s in n.body:
                mark(s)
        elif isinstance(n, (ast.If, ast.While, ast.IfExp)) and calls_guard(n.test):
            mark(n)
        elif isinstance(n, ast.BoolOp) and any(calls_guard(v) for v in n.values):
            mark(n)
        elif isinstance(n, ast.JoinedStr):
            # Before Python 3.12 the positions inside an f-string can be off.
            mark(n)
        # Annotations: never evaluated under `from __future__ import
        # annotations`, and pylint does not look there.
        elif isinstance(n, ast.arg) and n.annotation is not None:
            mark(n.annotation)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.returns is not None:
            mark(n.returns)
        elif isinstance(n, ast.AnnAssign):
            mark(n.annotation)
    return out


def arity_ok(args, npos, kwnames):
    """Whether a call with npos positional arguments and the keywords kwnames
    binds to the parameters args without error."""
    pos = args.posonlyargs + args.args
    if npos > len(pos) and args.vararg is None:
        return False
    n_def = len(args.defaults)
    filled = set(p.arg for p in pos[:npos])
    names = set(p.arg for p in args.args) | set(p.arg for p in args.kwonlyargs)
    for k in kwnames:
        if k in filled or (k not in names and args.kwarg is None):
            return False
        filled.add(k)
    for i, p in enumerate(pos):
        if i >= len(pos) - n_def:
            continue
        if p.arg not in filled:
            return False
    for p, d in zip(args.kwonlyargs, args.kw_defaults):
        if d is None and p.arg not in filled:
            return False
    return True


def resolve_func(table, t, name, depth=0):
    """The module and name of the function that `name` of module t is: its
    own top-level def, or one it re-exports with a plain module-level
    `from M import f [as name]` (followed up to 4 times). None when unsure."""
    if t is None or not t.sure or depth > 4:
        return None
    if name in t.funcs:
        return t, name
    if t.bindings[name] != 1 or name in t.subs:
        return None
    for stmt in t.tree.body:
        if not isinstance(stmt, ast.ImportFrom):
            continue
        for a in stmt.names:
            if (a.asname or a.name) != name:
                continue
            base = absolute(t, stmt.level, stmt.module or "")
            t2 = table.get(base) if base else None
            if t2 is None or a.name in t2.subs:
                return None
            return resolve_func(table, t2, a.name, depth + 1)
    return None


def binds_submodule(pkg, name):
    """Whether pkg.name is surely the submodule: the package binds no such
    name, or binds it only with `from . import name`."""
    if pkg.bindings[name] == 0:
        return True
    if pkg.bindings[name] != 1:
        return False
    for stmt in pkg.tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and not stmt.module:
            if any(a.name == name and a.asname is None for a in stmt.names):
                return True
    return False


class Site:
    """One possible fault: on line `changed` (1-based) the bytes col0..col1
    (0-based) become text; strata should then report `code` on line
    `report` (the same line unless a call spans several)."""

    def __init__(self, report, changed, col0, col1, text, target, name):
        self.report = report
        self.changed = changed
        self.col0 = col0
        self.col1 = col1
        self.text = text
        self.target = target
        self.name = name


class FileSites:
    """The candidate sites of one file, per kind."""

    def __init__(self, mod, table, rng, std=None):
        self.mod = mod
        self.table = table
        self.std = std
        self.sites = {k: [] for k, _ in KINDS}
        text = b"\n".join(mod.lines)
        if b"flake8: noqa" in text:
            return
        names = collections.Counter()
        bound_names(mod.tree, names)
        guarded = guarded_nodes(mod.tree)
        modvars = {}  # a name bound to a module -> the module
        funcvars = {}  # a name bound to a function -> (module, name there)
        classvars = {}  # a name bound to a top-level class of a project module -> (module, name)
        dotted = collections.defaultdict(set)  # `import a.b.c`: a -> {"a.b.c"}
        plain_imports = collections.Counter()
        stdvars = {}  # a name bound by `import X [as m]`, X a stdlib module -> X
        for stmt in mod.tree.body:
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    var = a.asname or a.name
                    if (std is not None and "." not in var and names[var] == 1
                            and std.usable(a.name)):
                        stdvars[var] = a.name
                    if a.asname is None and "." in a.name:
                        top = a.name.split(".")[0]
                        dotted[top].add(a.name)
                        plain_imports[top] += 1
                        continue
                    var = a.asname or a.name
                    if a.asname is None:
                        plain_imports[var] += 1
                    t = table.get(a.name)
                    if t is not None and t.sure and names[var] == 1:
                        modvars[var] = t
            elif isinstance(stmt, ast.ImportFrom):
                base = absolute(mod, stmt.level, stmt.module or "")
                t = table.get(base) if base else None
                if t is None or not t.sure:
                    continue
                self.name_site(stmt, t, rng)
                for a in stmt.names:
                    var = a.asname or a.name
                    if names[var] != 1:
                        continue
                    if a.name in t.subs:
                        sub = table.get(t.name + "." + a.name)
                        if sub is not None and sub.sure and binds_submodule(t, a.name):
                            modvars[var] = sub
                        continue
                    r = resolve_func(table, t, a.name)
                    if r is not None:
                        funcvars[var] = r
                    elif t.bindings[a.name] == 1 and a.name in t.classes:
                        classvars[var] = (t, a.name)
        # `import a.b.c` (several such lines may bind a): a chain a.b.c.x is
        # an attribute of a.b.c when a is bound by those imports only, and
        # no package on the way binds the next name itself.
        self.dotted = {}
        for top, full in dotted.items():
            if names[top] != plain_imports[top]:
                continue
            for d in full:
                parts = d.split(".")
                ok = True
                for i in range(1, len(parts)):
                    parent = table.get(".".join(parts[:i]))
                    if parent is not None and parts[i] in parent.bindings:
                        ok = False
                t = table.get(d)
                if ok and t is not None and t.sure:
                    self.dotted[d] = t
        for n in ast.walk(mod.tree):
            if id(n) in guarded:
                continue
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                t = self.module_of(n.value, modvars)
                if t is not None:
                    self.attr_site(n, t, rng)
                if isinstance(n.value, ast.Name) and n.value.id in stdvars:
                    self.stdattr_site(n, stdvars[n.value.id])
            elif isinstance(n, ast.Call):
                f = n.func
                if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                        and f.value.id in stdvars):
                    self.stdargs_site(n, stdvars[f.value.id], f.attr)
                r = None
                if isinstance(f, ast.Name) and f.id in funcvars:
                    r = funcvars[f.id]
                elif isinstance(f, ast.Attribute):
                    t = self.module_of(f.value, modvars)
                    if t is not None:
                        r = resolve_func(table, t, f.attr)
                if r is not None:
                    self.call_sites(n, r[0], r[1])
        self.class_sites(mod.tree, names, guarded, classvars)

    def class_sites(self, tree, names, guarded, classvars):
        """selfmeth and selfargs: `self.meth(...)` in the methods of the
        module's top-level classes, meth a def of the class or of a base
        defined earlier in the module."""
        attrs = set(n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute))
        classes = class_table(tree, names)
        mros = classes.pop(None)
        for stmt in tree.body:
            if not isinstance(stmt, ast.ClassDef):
                continue
            c = classes.get(stmt.name)
            if c is not None and "members" not in c:
                c["ext_init"] = imported_init(stmt, c, classvars)
            if id(stmt) not in mros:
                continue
            mro = mros[id(stmt)]
            for m in stmt.body:
                if not isinstance(m, ast.FunctionDef) or m.decorator_list or not m.args.args:
                    continue
                me = m.args.args[0].arg
                for n in ast.walk(m):
                    if (not isinstance(n, ast.Call) or id(n) in guarded
                            or not isinstance(n.func, ast.Attribute)
                            or not isinstance(n.func.value, ast.Name) or n.func.value.id != me):
                        continue
                    owners = [d[n.func.attr] for d in mro if n.func.attr in d]
                    if not owners or n.func.attr.startswith("__"):
                        continue
                    self.meth_site("selfmeth", n, attrs, names)
                    self.selfargs_site(n, owners[0])
        for n in ast.walk(tree):
            if not (isinstance(n, ast.Call) and id(n) not in guarded
                    and isinstance(n.func, ast.Name)):
                continue
            init = None
            if classes.get(n.func.id) is not None:
                init = inherited_init(classes, n.func.id) or classes[n.func.id].get("ext_init")
            elif n.func.id in classvars and names[n.func.id] == 1:
                init = imported_class_init(*classvars[n.func.id])
            if init is not None:
                self.args_site("ctorargs", n, init, n.func.id)
        self.instance_sites(tree, classes, attrs, names, guarded)

    def instance_sites(self, tree, classes, attrs, names, guarded):
        """instmeth and instargs: `x.meth(...)` where `x = C(...)` is the
        only binding of x in its function (at module level: in the module),
        C one of the module's top-level classes."""
        seen = set()
        scopes = [tree] + [n for n in ast.walk(tree)
                           if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for sc in scopes:
            nodes = list(ast.walk(sc))
            if sc is tree:
                binds_in = names
            else:
                binds_in = collections.Counter(
                    n.id for n in nodes if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load))
                binds_in.update(a.arg for a in nodes if isinstance(a, ast.arg))
                binds_in.update(n.name for n in nodes[1:] if isinstance(
                    n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
                for n in nodes:
                    if isinstance(n, (ast.Global, ast.Nonlocal)):
                        binds_in.update(n.names * 2)
            inst = {}
            for n in (sc.body if sc is tree else nodes):
                if (isinstance(n, ast.Assign) and len(n.targets) == 1
                        and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Call)
                        and isinstance(n.value.func, ast.Name)
                        and classes.get(n.value.func.id) is not None
                        and binds_in[n.targets[0].id] == 1):
                    inst[n.targets[0].id] = classes[n.value.func.id]
            for n in nodes:
                if (not isinstance(n, ast.Call) or id(n) in guarded or id(n) in seen
                        or not isinstance(n.func, ast.Attribute)
                        or not isinstance(n.func.value, ast.Name) or n.func.value.id not in inst):
                    continue
                owners = [d[n.func.attr] for d in inst[n.func.value.id]["mro"] if n.func.attr in d]
                if not owners or n.func.attr.startswith("__"):
                    continue
                seen.add(id(n))
                self.meth_site("instmeth", n, attrs, names)
                self.args_site("instargs", n, owners[0], n.func.attr)

    def meth_site(self, kind, call, attrs, names):
        f = call.func
        if f.lineno != f.end_lineno or not self.line_ok(f.lineno):
            return
        span = self.attr_span(f)
        if span is None:
            return
        start, end = span
        new = next((f.attr + suf for suf in ("_zq", "_zqx", "_qz")
                    if f.attr + suf not in attrs and names[f.attr + suf] == 0), None)
        if new is not None:
            self.sites[kind].append(Site(f.lineno, f.lineno, start, end, new, "self", new))

    def selfargs_site(self, call, meth):
        self.args_site("selfargs", call, meth, call.func.attr)

    def args_site(self, kind, call, meth, name):
        """A call of meth (a def whose first parameter the call binds: self)
        valid as it is, to get positional arguments beyond what meth takes."""
        report = call.func.lineno
        if not self.line_ok(report):
            return
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords):
            return
        args = meth.args
        bound = ast.arguments(posonlyargs=args.posonlyargs[1:],
                              args=args.args[1:] if not args.posonlyargs else args.args,
                              vararg=args.vararg, kwonlyargs=args.kwonlyargs,
                              kw_defaults=args.kw_defaults, kwarg=args.kwarg,
                              defaults=args.defaults)
        npos = len(call.args)
        kws = [k.arg for k in call.keywords]
        if args.vararg is not None or kws or not arity_ok(bound, npos, kws):
            return
        at = self.closing_paren(call)
        if at is None:
            return
        at_line, at_col, sep = at
        maxpos = len(bound.posonlyargs) + len(bound.args)
        text = sep + ", ".join(["None"] * (maxpos - npos + 1))
        self.sites[kind].append(Site(report, at_line, at_col, at_col, text, "self", name))

    def module_of(self, node, modvars):
        """The project module an expression names for sure, or None."""
        if isinstance(node, ast.Name):
            return modvars.get(node.id)
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        return self.dotted.get(".".join([node.id] + chain[::-1]))

    def attr_span(self, node):
        """The byte columns of an Attribute's name on its line, or None
        when the line does not show it there."""
        end = node.end_col_offset
        start = end - len(node.attr.encode())
        if self.mod.lines[node.end_lineno - 1][start:end] != node.attr.encode():
            return None
        return start, end

    def line_ok(self, line):
        return b"noqa" not in self.mod.lines[line - 1]

    def name_site(self, stmt, target, rng):
        if stmt.lineno != stmt.end_lineno or not self.line_ok(stmt.lineno):
            return
        if any(a.name == "*" for a in stmt.names):
            return
        last = stmt.names[-1]
        if getattr(last, "end_col_offset", None) is None:
            return
        new = missing_name(target, last.name, rng)
        if new is None:
            return
        col = last.end_col_offset
        self.sites["name"].append(
            Site(stmt.lineno, stmt.lineno, col, col, ", " + new, target.name, new)
        )

    def attr_site(self, node, target, rng):
        if node.lineno != node.end_lineno or not self.line_ok(node.lineno):
            return
        if node.attr not in target.bindings and node.attr not in target.subs:
            return  # already missing (or unknown): the clean copy decides
        span = self.attr_span(node)
        if span is None:
            return
        start, end = span
        new = missing_name(target, node.attr, rng)
        if new is None:
            return
        # strata reports the use at its first line: the base name's.
        report = node.lineno
        self.sites["attr"].append(Site(report, node.lineno, start, end, new, target.name, new))

    def stdattr_site(self, node, module):
        """`m.a`, m a stdlib module, becomes `m.ax`, a name m lacks at run
        time and in its stub."""
        if node.lineno != node.end_lineno or not self.line_ok(node.lineno):
            return
        if not self.std.has(module, node.attr):
            return
        span = self.attr_span(node)
        if span is None:
            return
        start, end = span
        new = missing_std_name(self.std, module, node.attr)
        if new is not None:
            self.sites["stdattr"].append(
                Site(node.lineno, node.lineno, start, end, new, module, new)
            )

    def stdargs_site(self, call, module, fname):
        """`m.f(...)`, f a stdlib function with a fixed number of positional
        parameters (at run time and in every def of its stub) that the call
        binds to, gets one positional argument more than any of them takes."""
        if call.lineno != call.end_lineno or not self.std.has(module, fname):
            return
        sigs = self.std.signatures(module, fname)
        if sigs is None or any(isinstance(a, ast.Starred) for a in call.args):
            return
        if any(k.arg is None for k in call.keywords):
            return
        runtime, stub_defs = sigs
        views = ([runtime] if runtime is not None else []) + stub_defs
        maxima = [max_positional(p) for p in views]
        if None in maxima:
            return
        npos = len(call.args)
        kws = [k.arg for k in call.keywords]
        if runtime is not None and not binds(runtime, npos, kws):
            return
        if stub_defs and not any(binds(p, npos, kws) for p in stub_defs):
            return
        at = self.closing_paren(call)
        if at is None:
            return
        at_line, at_col, sep = at
        text = sep + ", ".join(["None"] * (max(maxima) - npos + 1))
        self.sites["stdargs"].append(
            Site(call.lineno, at_line, at_col, at_col, text, module, fname)
        )

    def closing_paren(self, call):
        """Where an argument goes at the end of a call: (line, column of the
        closing parenthesis, separator), or None where that is unsure."""
        # Insert just before the call's closing parenthesis: after the last
        # argument's end, a parenthesized argument's own ")" may follow
        # (ast's positions exclude it), and ", None" there would make a
        # tuple instead of a new argument.
        at_line, at_col = call.end_lineno, call.end_col_offset - 1
        text = self.mod.lines[at_line - 1]
        if text[at_col : at_col + 1] != b")":
            return None
        before = text[:at_col].rstrip()
        if not before:
            return None  # ")" alone on its line
        if before.endswith(b"("):
            sep = ""
        elif before.endswith(b","):
            sep = " "
        else:
            sep = ", "
        if at_line != call.func.lineno and not self.line_ok(at_line):
            return None
        return at_line, at_col, sep

    def call_sites(self, call, target, fname):
        report = call.func.lineno
        if not self.line_ok(report):
            return
        if any(isinstance(a, ast.Starred) for a in call.args):
            return
        if any(k.arg is None for k in call.keywords):
            return
        args = target.funcs[fname]
        npos = len(call.args)
        kws = [k.arg for k in call.keywords]
        if not arity_ok(args, npos, kws):
            return
        at = self.closing_paren(call)
        if at is None:
            return
        at_line, at_col, sep = at
        maxpos = len(args.posonlyargs) + len(args.args)
        if args.vararg is None and not kws:
            text = sep + ", ".join(["None"] * (maxpos - npos + 1))
            self.sites["args"].append(
                Site(report, at_line, at_col, at_col, text, target.name, fname)
            )
        if args.kwarg is None:
            params = set(p.arg for p in args.posonlyargs + args.args + args.kwonlyargs)
            kw = next((k for k in UNKNOWN_KEYWORDS if k not in params and k not in kws), None)
            if kw is not None:
                self.sites["kw"].append(
                    Site(report, at_line, at_col, at_col, sep + kw + "=None", target.name, fname)
                )


# --- planting ----------------------------------------------------------------


def plant(root, mods, table, per_kind, seed, std=None, kinds=None):
    """Plants up to per_kind faults of each kind in the tree at root, at most
    one per kind per file and one per line. Files are visited in an order
    the seed decides; in each, the kinds go from the one with the least
    slack (files left that could take it, minus faults still wanted) to the
    one with the most, and each takes, among its sites whose lines are
    free, one that the other kinds want least."""
    rng = random.Random(seed)
    sites = {}
    for rel in sorted(mods):
        if rel.endswith(".py"):
            fs = FileSites(mods[rel], table, random.Random("%s:%s" % (seed, rel)), std)
            for k, _ in KINDS:
                if kinds is not None and k not in kinds:
                    fs.sites[k] = []
            sites[rel] = fs
    avail = {k: sum(1 for s in sites.values() if s.sites[k]) for k, _ in KINDS}
    code_of = dict(KINDS)
    changed = collections.defaultdict(dict)  # rel -> line -> new bytes
    touched = collections.defaultdict(set)  # rel -> lines changed or reported on
    manifest = []
    left = dict(avail)  # files not visited yet that have a site of the kind
    planted = collections.Counter()

    order = sorted(rel for rel in sites if any(sites[rel].sites.values()))
    rng.shuffle(order)
    for rel in order:
        fs = sites[rel]
        kinds = [k for k, _ in KINDS if fs.sites[k]]
        for k in kinds:
            left[k] -= 1
        kinds.sort(key=lambda k: (left[k] - (per_kind - planted[k]), k))
        for kind in kinds:
            if planted[kind] >= per_kind:
                continue
            want = collections.Counter()
            for k in kinds:
                if k != kind:
                    for o in fs.sites[k]:
                        want[o.changed] += 1
                        want[o.report] += 1
            cands = list(fs.sites[kind])
            rng.shuffle(cands)
            cands.sort(key=lambda s: want[s.changed] + want[s.report])
            for s in cands:
                if s.changed in touched[rel] or s.report in touched[rel]:
                    continue
                old = mods[rel].lines[s.changed - 1]
                new = old[: s.col0] + s.text.encode() + old[s.col1 :]
                lines = list(mods[rel].lines)
                for ln, b in changed[rel].items():
                    lines[ln - 1] = b
                lines[s.changed - 1] = new
                try:
                    compile(b"\n".join(lines), rel, "exec", dont_inherit=True)
                except (SyntaxError, ValueError):
                    continue
                changed[rel][s.changed] = new
                touched[rel].update((s.changed, s.report))
                manifest.append(
                    {
                        "file": rel,
                        "line": s.report,
                        "changed_line": s.changed,
                        "kind": kind,
                        "code": code_of[kind],
                        "target": s.target,
                        "name": s.name,
                        "before": old.decode("utf-8", "replace"),
                        "after": new.decode("utf-8", "replace"),
                    }
                )
                planted[kind] += 1
                break
    for rel, edits in changed.items():
        lines = list(mods[rel].lines)
        for ln, b in edits.items():
            lines[ln - 1] = b
        with open(os.path.join(root, rel), "wb") as f:
            f.write(b"\n".join(lines))
    manifest.sort(key=lambda e: (e["kind"], e["file"], e["line"]))
    return manifest, avail


# --- running strata and pylint -----------------------------------------------


def run_strata(strata, root, env_args):
    cmd = [strata, "check", "-q", "--no-cache", "--select", CODES] + env_args
    cmd += ["--root", root, root]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 2 and b"unknown option '--root'" in p.stderr:
        # A strata from before --root: the path argument is the root anyway.
        log("inject_faults: this strata has no --root; running without it")
        cmd = [c for c in cmd if c != "--root"][:-1]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        log("inject_faults: %s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr.decode()))
        sys.exit(2)
    out = collections.Counter()
    prefix = root.rstrip("/") + "/"
    for raw in p.stdout.decode("utf-8", "replace").splitlines():
        m = DIAG_RE.match(raw)
        if not m:
            continue
        path = m.group(1)
        if path.startswith(prefix):
            path = path[len(prefix) :]
        out[(path, int(m.group(2)), m.group(4), m.group(5))] += 1
    return out


def run_pylint(root, manifest):
    files = sorted(set(e["file"] for e in manifest))
    cmd = [
        "pylint",
        "--disable=all",
        "--enable=E0611,E1101,E1120,E1121,E1123",
        "--score=n",
        "--msg-template={path}:{line}: {msg_id}",
    ] + files
    # No PYTHONPATH: pylint itself would load the faulted copy (of the
    # standard library, of astroid...). It finds the checked files' packages
    # from their paths.
    p = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = set()
    for raw in p.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"^(.*?):(\d+): (E\d+)$", raw)
        if m:
            got.add((m.group(1), int(m.group(2)), m.group(3)))
    return got


def imported_modules(mods):
    """Every module named by a plain module-level `import X [as m]`."""
    out = set()
    for m in mods.values():
        for stmt in m.tree.body:
            if isinstance(stmt, ast.Import):
                out.update(a.name for a in stmt.names)
    return out


def pyright_confirms(pyright, python, clean, faulted, manifest):
    """Marks each fault of the manifest with "pyright": whether pyright,
    run on the changed files in each copy, reports the fault's code on its
    line (or on the changed line) of the faulted copy and not of the clean
    one."""
    files = sorted(set(e["file"] for e in manifest))
    log("inject_faults: pyright on %d changed files, clean and faulted" % len(files))
    got = {}
    for name, root in (("clean", clean), ("faulted", faulted)):
        got[name] = collections.defaultdict(set)
        for path, line, code, _rule, _msg in pyright_ref.run_pyright(
            root, files, python, pyright, "inject_faults"
        ):
            if code is not None:
                got[name][(path, line)].add(code)

    def reported(name, e, line):
        return any(pyright_ref.code_matches(c, e["code"]) for c in got[name][(e["file"], line)])

    for e in manifest:
        lines = sorted(set((e["line"], e["changed_line"])))
        e["pyright"] = any(reported("faulted", e, ln) and not reported("clean", e, ln)
                           for ln in lines)


def confirms_from(path, manifest):
    """Marks the faults of manifest as the manifest at path (an earlier
    --pyright run) does; False, with a message, when they differ."""
    key = lambda e: (e["file"], e["changed_line"], e["kind"], e["after"])
    try:
        with open(path) as f:
            old = {key(e): e.get("pyright") for e in json.load(f)}
    except (OSError, ValueError, KeyError, TypeError) as e:
        log("inject_faults: cannot read %s: %s" % (path, e))
        return False
    if set(old) != set(key(e) for e in manifest) or None in old.values():
        log("inject_faults: %s holds other faults (or no pyright marks): plant with the "
            "same --src, --seed, --per-kind and --kinds, or run --pyright" % path)
        return False
    for e in manifest:
        e["pyright"] = old[key(e)]
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default="/usr/lib/python3.11")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-kind", type=int, default=200)
    ap.add_argument("--kinds", default=",".join(k for k, _ in KINDS if k not in CLASS_KINDS),
                    help="the kinds to plant, comma-separated (default: all but selfmeth, selfargs and ctorargs)")
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--python", default=pyright_ref.PYTHON,
                    help="the interpreter of the environment (strata --python, pyright "
                    "--pythonpath, the stdlib kinds' run-time view)")
    ap.add_argument("--typeshed", default=pyright_ref.TYPESHED,
                    help="typeshed's stdlib stubs (default: pinned pyright's)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--manifest", help="where to write the manifest (JSON)")
    ap.add_argument("--no-run", action="store_true", help="plant only; implies --keep")
    ap.add_argument("--pylint", action="store_true", help="also check the faults with pylint")
    ap.add_argument("--pyright", action="store_true",
                    help="count only the faults pyright confirms")
    ap.add_argument("--pyright-bin", default=pyright_ref.PYRIGHT)
    ap.add_argument("--pyright-from", metavar="MANIFEST",
                    help="take pyright's confirmations from a manifest an earlier --pyright "
                    "run wrote with the same --src, --seed, --per-kind and --kinds")
    opt = ap.parse_args()

    kinds = [k for k in opt.kinds.split(",") if k]
    bad = [k for k in kinds if k not in dict(KINDS)]
    if bad or not kinds:
        log("inject_faults: unknown kind %s (kinds: %s)"
            % (",".join(bad), ",".join(k for k, _ in KINDS)))
        return 2
    src = os.path.abspath(opt.src)
    if not os.path.isdir(src):
        log("inject_faults: no directory %s" % src)
        return 2
    if not opt.no_run and not os.access(opt.strata, os.X_OK):
        log("inject_faults: no strata binary at %s (--strata)" % opt.strata)
        return 2
    if opt.pyright and opt.pyright_from:
        log("inject_faults: --pyright or --pyright-from, not both")
        return 2
    if opt.pyright:
        pyright_ref.check_pyright(opt.pyright_bin, "inject_faults")
    want_std = any(k in STD_KINDS for k in kinds)
    if want_std and not os.path.isfile(os.path.join(opt.typeshed, "VERSIONS")):
        log("inject_faults: no typeshed stubs at %s (--typeshed; scripts/bench-deps.sh "
            "installs pyright's)" % opt.typeshed)
        return 2
    if want_std and not os.access(opt.python, os.X_OK):
        log("inject_faults: no interpreter %s (--python)" % opt.python)
        return 2
    files = list_files(src)
    if not files:
        log("inject_faults: no .py file under %s" % src)
        return 2
    tmp = tempfile.mkdtemp(prefix="strata-faults.")
    keep = opt.keep or opt.no_run
    try:
        clean = os.path.join(tmp, "clean")
        faulted = os.path.join(tmp, "faulted")
        if os.path.exists(os.path.join(src, "__init__.py")):
            # A package: keep its name, so that the copy's root holds it.
            files = [os.path.join(os.path.basename(src), f) for f in files]
            src = os.path.dirname(src)
        copy_tree(src, clean, files)
        copy_tree(src, faulted, files)
        mods, table = load_modules(faulted, files)
        std = None
        if want_std:
            std = StdEnv(opt.python, opt.typeshed, imported_modules(mods), log)
        manifest, avail = plant(faulted, mods, table, opt.per_kind, opt.seed, std, kinds)
        per = collections.Counter(e["kind"] for e in manifest)
        log("inject_faults: %d files from %s; copies in %s" % (len(files), src, tmp))
        for kind, code in KINDS:
            if kind not in kinds:
                continue
            short = " (fewer than --per-kind)" if per[kind] < opt.per_kind else ""
            log(
                "  %-7s %s: %d planted, %d files had a site%s"
                % (kind, code, per[kind], avail[kind], short)
            )
        if opt.pyright:
            pyright_confirms(opt.pyright_bin, opt.python, clean, faulted, manifest)
        elif opt.pyright_from:
            if not confirms_from(opt.pyright_from, manifest):
                return 2
            opt.pyright = True
        mpath = opt.manifest or os.path.join(tmp, "manifest.json")
        with open(mpath, "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        log("inject_faults: manifest %s" % mpath)
        confirmed = None
        if opt.pylint:
            got = run_pylint(faulted, manifest)
            hit = [e for e in manifest if (e["file"], e["line"], e["code"]) in got]
            confirmed = collections.Counter(e["kind"] for e in hit)
            log("inject_faults: pylint reports the expected code on the faulted line for")
            for kind, code in KINDS:
                if kind in kinds:
                    log("  %-7s %s: %d of %d" % (kind, code, confirmed[kind], per[kind]))
            unconfirmed = [e for e in manifest if e not in hit]
            for e in unconfirmed[:30]:
                log("  not confirmed: %s:%d: %s %s" % (e["file"], e["line"], e["code"],
                                                        e["after"].strip()))
        counted = manifest
        if opt.pyright:
            counted = [e for e in manifest if e["pyright"]]
            n_conf = collections.Counter(e["kind"] for e in counted)
            if opt.no_run:
                print("kind    code   planted  pyright-confirms")
                for kind, code in KINDS:
                    if kind in kinds:
                        print("%-7s %s  %7d  %16d" % (kind, code, per[kind], n_conf[kind]))
        if opt.no_run:
            return 0

        env_args = pyright_ref.strata_env_args(opt.strata, opt.python)
        if not env_args:
            log("inject_faults: this strata has no --python; checking without an environment")
        before = run_strata(opt.strata, clean, env_args)
        after = run_strata(opt.strata, faulted, env_args)
        return report(manifest, counted, kinds, per, before, after, confirmed, opt.pyright)
    finally:
        if keep:
            log("inject_faults: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(manifest, counted, kinds, per, before, after, confirmed, by_pyright):
    """Prints the table and the lists; returns the exit status. counted: the
    faults recall is over (those pyright confirms, with --pyright)."""
    new = after - before
    new_keys = collections.Counter()
    for (path, line, code, _msg), c in new.items():
        new_keys[(path, line, code)] += c
    changed = set((e["file"], e["line"]) for e in manifest)
    changed |= set((e["file"], e["changed_line"]) for e in manifest)
    expected = set((e["file"], e["line"], e["code"]) for e in manifest)
    hit = lambda e: new_keys[(e["file"], e["line"], e["code"])] > 0
    found = collections.Counter(e["kind"] for e in counted if hit(e))
    base = collections.Counter(e["kind"] for e in counted)
    off_lines = [(k, c) for k, c in new.items() if (k[0], k[1]) not in changed]
    on_lines_other = [
        (k, c) for k, c in new.items() if (k[0], k[1]) in changed and k[:3] not in expected
    ]

    ok = True
    # new-elsewhere: new diagnostics with the kind's code (E1120 counts
    # with args) on lines that no fault changed.
    print("kind    code   planted  %sfound  recall  new-elsewhere%s"
          % ("pyright-confirms  " if by_pyright else "",
             "  pylint-confirms" if confirmed is not None else ""))
    n_off = collections.Counter()
    for (path, line, code, msg), c in off_lines:
        n_off[code] += c
    for kind, code in KINDS:
        if kind not in kinds:
            continue
        b_, f_ = base[kind], found[kind]
        rec = f_ / b_ if b_ else 0.0
        if b_ == 0 or rec < RECALL_BAR or (by_pyright and b_ < PYRIGHT_MIN):
            ok = False
        conf = "%16d  " % b_ if by_pyright else ""
        extra = "  %d" % confirmed[kind] if confirmed is not None else ""
        off = n_off[code] + (n_off["E1120"] if code == "E1121" else 0)
        print("%-7s %s  %7d  %s%5d  %5.1f%%  %d%s"
              % (kind, code, per[kind], conf, f_, 100 * rec, off, extra))
    total_off = sum(c for _, c in off_lines)
    print("new diagnostics on lines no fault changed: %d" % total_off)
    for (path, line, code, msg), c in sorted(off_lines)[:50]:
        print("  %s:%d: %s %s" % (path, line, code, msg))
    if on_lines_other:
        print("other new diagnostics on changed lines: %d" % sum(c for _, c in on_lines_other))
        for (path, line, code, msg), c in sorted(on_lines_other)[:20]:
            print("  %s:%d: %s %s" % (path, line, code, msg))
    missed = [e for e in counted if not hit(e)]
    if missed:
        print("missed (first 20 of %d):" % len(missed))
        for e in missed[:20]:
            print("  %s:%d: %s %s" % (e["file"], e["line"], e["code"], e["after"].strip()))
    if total_off:
        ok = False
    bar = "recall >= %d%% per kind" % (RECALL_BAR * 100)
    if by_pyright:
        bar += " of >= %d pyright-confirmed faults" % PYRIGHT_MIN
    print("bar (%s, no new diagnostic off the faults): %s" % (bar, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
