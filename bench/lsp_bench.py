#!/usr/bin/env python3
"""lsp_bench.py - strata's language server against pyright's, in one editor.

One run, one client: Debian's neovim 0.7.2 headless (bench/lsp_bench.lua)
drives `strata lsp` and then `pyright-langserver --stdio` through the same
session on a fresh copy of the standard library (/usr/lib/python3.11, tests
excluded as in stdlib_files.sh) opened as the workspace, each server with a
cold cache:
  1. open textwrap.py: time to its first diagnostics;
  2. --edits single-character insertions and deletions in dedent's body
     (`margin = None`), each timed from nvim_buf_set_text to the
     publishDiagnostics of the new version; then --import-rounds of an
     unused `import os` added and removed (one change each);
  3. --save-rounds of renaming _aix_support.aix_platform and restoring it,
     each saved with :write and timed until sysconfig.py (open, `from
     _aix_support import aix_platform`) has its diagnostics right; 0 when
     they were right before the write (typeshed has no _aix_support, so
     pyright reads the copy too: for the standard library's other names
     it prefers its stubs); also timed from the edit, the write coming
     once the module's own diagnostics arrived (pyright re-checks the
     importer from the unsaved edit);
  4. the server's peak resident memory, VmHWM summed over its process and
     its descendants, read after the session;
  5. a second session on the same copy, its caches kept: time to the
     first diagnostics of textwrap.py again.
Times are taken inside neovim with vim.loop.hrtime(), so the client's own
cost is the same for both servers. It prints a table with the ratio
strata/pyright and the bars of the language server's issue: edit p50 <= 5
ms, p99 <= 20 ms, save -> importer <= 50 ms, peak memory < 200 MB.

Usage: lsp_bench.py [--strata PATH] [--pyright PATH] [--src DIR]
                    [--edits N] [--import-rounds N] [--save-rounds N]
                    [--only strata|pyright] [--json FILE] [--keep]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
EXCLUDE = ["site-packages", "dist-packages", "test", "tests", "idle_test"]


def copy_tree(src, dst):
    def ignore(_dir, names):
        return [n for n in names if n in EXCLUDE or n == "__pycache__"]

    shutil.copytree(src, dst, ignore=ignore, symlinks=False)


def pct(values, p):
    """Nearest-rank percentile of the values that are not None."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    k = max(0, min(len(xs) - 1, -(-p * len(xs) // 100) - 1))
    return xs[int(k)]


def run_server(name, cmd, args, work, warm=False):
    """One neovim session; warm: again on the copy (and caches) of the last."""
    root = os.path.join(work, name, "stdlib")
    if not warm:
        copy_tree(args.src, root)
    env = dict(os.environ)
    # a cold cache of library scans of its own (never the user's)
    env["STRATA_SHARED_CACHE_DIR"] = os.path.join(work, name, "shared-cache")
    env["XDG_CACHE_HOME"] = os.path.join(work, name, "xdg-cache")
    out = os.path.join(work, name, "warm.json" if warm else "result.json")
    cfg = {"cmd": cmd, "root": root, "edits": 0 if warm else args.edits,
           "import_rounds": 0 if warm else args.import_rounds,
           "save_rounds": 0 if warm else args.save_rounds,
           "timeout_ms": args.timeout * 1000, "out": out, "settings": {}}
    cfg_path = os.path.join(work, name, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    env["LSPC_CONFIG"] = cfg_path
    print(f"lsp_bench: {name}{' again' if warm else ''}: {' '.join(cmd)} on {root}",
          file=sys.stderr)
    p = subprocess.run(["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n",
                        "-c", "luafile " + os.path.join(HERE, "lsp_bench.lua")],
                       cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=3600)
    if p.stderr.strip():
        print(p.stderr.strip(), file=sys.stderr)
    if not os.path.exists(out):
        print(f"lsp_bench: {name}: no result (neovim exited {p.returncode})", file=sys.stderr)
        return None
    with open(out) as f:
        res = json.load(f)
    for k in ("edit_ms", "import_ms", "save_ms", "edit_importer_ms"):
        res[k] = [None if v is None else v for v in res.get(k, [])]
    return res


def metrics(r):
    if r is None:
        return {}
    missed = sum(v is None for v in r["edit_ms"] + r["import_ms"] + r["save_ms"])
    return {
        "initialize (ms)": r.get("initialize_ms"),
        "open -> first diagnostics (ms)": r.get("first_diagnostics_ms"),
        "the same, second session (ms)": (r.get("warm") or {}).get("first_diagnostics_ms"),
        "edit p50 (ms)": pct(r["edit_ms"], 50),
        "edit p90 (ms)": pct(r["edit_ms"], 90),
        "edit p99 (ms)": pct(r["edit_ms"], 99),
        "edit max (ms)": pct(r["edit_ms"], 100),
        "unused import edit p50 (ms)": pct(r["import_ms"], 50),
        "unused import edit max (ms)": pct(r["import_ms"], 100),
        "save -> importer p50 (ms)": pct(r["save_ms"], 50),
        "save -> importer max (ms)": pct(r["save_ms"], 100),
        "edit (then save) -> importer p50 (ms)": pct(r["edit_importer_ms"], 50),
        "peak memory (MB)": r["peak_rss_kb"] / 1024 if r.get("peak_rss_kb") else None,
        "steps without an answer": missed,
    }


BARS = {
    "edit p50 (ms)": "<= 5",
    "edit p99 (ms)": "<= 20",
    "save -> importer p50 (ms)": "<= 50",
    "save -> importer max (ms)": "<= 50",
    "peak memory (MB)": "< 200",
}


def table(ms, mp, notes):
    def f(v):
        return "-" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))

    rows = [("metric", "strata", "pyright", "strata/pyright", "bar")]
    for k in ms or mp:
        s, p = ms.get(k), mp.get(k)
        ratio = f"{s / p:.2f}" if isinstance(s, (int, float)) and isinstance(p, (int, float)) and p else "-"
        rows.append((k, f(s), f(p), ratio, BARS.get(k, "")))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[j]) for j, c in enumerate(r)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines + notes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--pyright", default=os.path.join(TOP, ".deps", "node", "node_modules", ".bin",
                                                      "pyright-langserver"))
    ap.add_argument("--src", default="/usr/lib/python3.11")
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--import-rounds", type=int, default=10)
    ap.add_argument("--save-rounds", type=int, default=5)
    ap.add_argument("--timeout", type=int, default=60, help="seconds a step may wait")
    ap.add_argument("--only", choices=["strata", "pyright"])
    ap.add_argument("--json", help="write both raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the copies")
    args = ap.parse_args()
    if shutil.which("nvim") is None:
        sys.exit("lsp_bench: no nvim (scripts/bootstrap.sh installs neovim)")

    work = tempfile.mkdtemp(prefix="strata-lsp-bench.")
    results = {}
    try:
        servers = {"strata": [os.path.abspath(args.strata), "lsp"],
                   "pyright": [args.pyright, "--stdio"]}
        for name, cmd in servers.items():
            if args.only in (None, name):
                results[name] = run_server(name, cmd, args, work)
                if results[name] is not None:
                    results[name]["warm"] = run_server(name, cmd, args, work, warm=True)
    finally:
        if args.keep:
            print(f"lsp_bench: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    notes = [""]
    for name, r in results.items():
        if r is None:
            notes.append(f"{name}: no result")
            continue
        notes.append(f"{name}: {r.get('processes')} process(es) at the end; "
                     f"importer right before :write in {r.get('save_before_write')} of "
                     f"{len(r['save_ms'])} saves; exit {r.get('exit')}")
        for e in r.get("errors", []):
            notes.append(f"{name}: {e}")
    print(table(metrics(results.get("strata")), metrics(results.get("pyright")), notes))


if __name__ == "__main__":
    main()
