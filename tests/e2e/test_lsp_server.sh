#!/usr/bin/env bash
# test_lsp_server.sh - `strata lsp` end to end, over pipes, from a small
# Python client (tests/e2e/lsp_client.py, the standard library only):
#
#  - initialize and the capabilities; diagnostics of a buffer with an
#    unused import (F401), gone after an incremental change;
#  - across modules: a name broken in module a, saved, gives E0611 in its
#    importer b; fixed and saved, it clears;
#  - code actions: the import removed, a noqa comment;
#  - errors: a request before initialize (-32002), an unknown method
#    (-32601), bad JSON (-32700), an oversized Content-Length (an error,
#    the body skipped, the server still answering), a bad header;
#  - shutdown then exit exits 0; EOF without shutdown exits 1.
#
# Usage: bash test_lsp_server.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
set -u

E2E_NAME=lsp_server
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p ws
printf 'def f():\n    return 1\n' >ws/a.py
printf 'from a import f\n\nf()\n' >ws/b.py
printf 'import os\nimport sys\n\nprint(sys)\n' >ws/c.py

/usr/bin/python3 - "$strata" "$tmp/ws" "$repo/tests/e2e" <<'PY' >"$tmp/py.out" 2>&1
import os, sys, time
strata, ws, here = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, here)
from lsp_client import Server, uri, codes

failures = []
def check(name, cond):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)

env = dict(os.environ, STRATA_CACHE_DIR=os.path.join(os.path.dirname(ws), "cache"))
s = Server([strata, "lsp", "--max-message-size", "4096"], cwd="/", env=env)

# before initialize
i = s.request("textDocument/diagnostic", {"textDocument": {"uri": uri(ws + "/c.py")}})
r = s.response(i)
check("not initialized -32002", r is not None and r.get("error", {}).get("code") == -32002)

i = s.request("initialize", {"processId": os.getpid(), "rootUri": uri(ws),
                             "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}})
r = s.response(i)
caps = r["result"]["capabilities"] if r and "result" in r else {}
check("utf-8 negotiated", caps.get("positionEncoding") == "utf-8")
check("incremental sync", caps.get("textDocumentSync", {}).get("change") == 2)
check("pull diagnostics", "diagnosticProvider" in caps)
s.notify("initialized", {})

c, a, b = uri(ws + "/c.py"), uri(ws + "/a.py"), uri(ws + "/b.py")
ctext = open(ws + "/c.py").read()
s.notify("textDocument/didOpen", {"textDocument": {"uri": c, "languageId": "python",
                                                   "version": 1, "text": ctext}})
d = s.diags(c, lambda d: codes(d) == ["F401"])
check("F401 on open", d is not None)
if d:
    check("F401 fields", d[0]["source"] == "strata" and d[0]["severity"] == 2 and
          d[0]["range"]["start"] == {"line": 0, "character": 0} and
          "href" in d[0].get("codeDescription", {}))

# code actions on the unused import
i = s.request("textDocument/codeAction", {"textDocument": {"uri": c},
              "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
              "context": {"diagnostics": []}})
r = s.response(i)
acts = r.get("result") or [] if r else []
titles = [x["title"] for x in acts]
check("noqa action", any("noqa" in t for t in titles))
rm = [x for x in acts if x["title"].startswith("Remove unused import")]
check("remove import action", len(rm) == 1 and rm[0]["edit"]["changes"][c][0]["newText"] == ""
      and rm[0]["edit"]["changes"][c][0]["range"]["end"] == {"line": 1, "character": 0})

# an incremental change that uses os: F401 goes
s.notify("textDocument/didChange", {"textDocument": {"uri": c, "version": 2}, "contentChanges": [
    {"range": {"start": {"line": 3, "character": 6}, "end": {"line": 3, "character": 9}},
     "text": "os, sys"}]})
check("F401 gone after change", s.diags(c, lambda d: d == []) is not None)
i = s.request("textDocument/diagnostic", {"textDocument": {"uri": c}})
r = s.response(i)
check("pull diagnostics empty", r is not None and r.get("result", {}).get("items") == [])

# across modules: break f in a (unsaved buffer, then save), E0611 in b
atext = open(ws + "/a.py").read()
s.notify("textDocument/didOpen", {"textDocument": {"uri": a, "languageId": "python",
                                                   "version": 1, "text": atext}})
s.notify("textDocument/didChange", {"textDocument": {"uri": a, "version": 2}, "contentChanges": [
    {"range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 5}},
     "text": "g"}]})
s.notify("textDocument/didSave", {"textDocument": {"uri": a}})
d = s.diags(b, lambda d: "E0611" in codes(d))
check("E0611 in the importer after save", d is not None)
rel = [x for x in d or [] if x["code"] == "E0611"]
check("E0611 names the module", rel and rel[0].get("relatedInformation", [{}])[0]
      .get("location", {}).get("uri") == a)
# what the server computed is a cache hit for strata check (same cache)
import subprocess as sp
open(ws + "/a.py", "w").write(atext.replace("def f", "def g", 1))
r = sp.run([strata, "check", "--explain", "."], cwd=ws, env=env, capture_output=True, text=True)
check("strata check hits the server's results",
      "0 scans ran" in r.stderr and "0 check jobs ran" in r.stderr and "E0611" in r.stdout)
open(ws + "/a.py", "w").write(atext)
s.notify("textDocument/didChange", {"textDocument": {"uri": a, "version": 3}, "contentChanges": [
    {"text": atext}]})
s.notify("textDocument/didSave", {"textDocument": {"uri": a}})
check("E0611 cleared after the fix", s.diags(b, lambda d: "E0611" not in codes(d)) is not None)

# a file made outside the editor: watched, walked again, its diagnostics
open(ws + "/d.py", "w").write("import json\n")
s.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri(ws + "/d.py"), "type": 1}]})
check("a watched new file is checked", s.diags(uri(ws + "/d.py"), lambda d: codes(d) == ["F401"])
      is not None)
os.remove(ws + "/d.py")
s.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri(ws + "/d.py"), "type": 3}]})
check("a removed file is cleared", s.diags(uri(ws + "/d.py"), lambda d: d == []) is not None)

# errors
i = s.request("no/such/method", {})
r = s.response(i)
check("unknown method -32601", r is not None and r.get("error", {}).get("code") == -32601)
s.notify("no/such/notification", {})
s.send_raw(b"Content-Length: 5\r\n\r\n{bad}")
r = s.wait(lambda m: m.get("error", {}).get("code") == -32700)
check("bad JSON -32700", r is not None and r.get("id") is None)
s.send_raw(b"Content-Length: 10000\r\n\r\n" + b" " * 10000)
r = s.wait(lambda m: m.get("error", {}).get("code") == -32600 and m.get("id") is None)
check("oversized message error", r is not None)
s.send_raw(b"Content-Type: nothing\r\n\r\n")
r = s.wait(lambda m: m.get("error", {}).get("code") == -32700)
check("header without Content-Length -32700", r is not None)
i = s.request("textDocument/diagnostic", {"textDocument": {"uri": c}})
r = s.response(i)
check("alive after bad input", r is not None and "result" in r)

i = s.request("shutdown", None)
check("shutdown", s.response(i) is not None)
s.notify("exit", None)
check("exit 0 after shutdown", s.exit_code() == 0)

# EOF without shutdown: exit 1
s2 = Server([strata, "lsp"], cwd="/", env=env)
s2.p.stdin.close()
check("EOF without shutdown exits 1", s2.exit_code() == 1)
# [tool.strata] of pyproject.toml applies to buffers: per-file-ignores
cws = os.path.join(os.path.dirname(ws), "cws")
os.makedirs(cws + "/tests", exist_ok=True)
open(cws + "/pyproject.toml", "w").write('[tool.strata]\nper-file-ignores = { "tests/*" = ["F401"] }\n')
for name in ("m.py", "tests/t.py"):
    open(cws + "/" + name, "w").write("import os\n")
s5 = Server([strata, "lsp"], cwd="/", env=env)
i = s5.request("initialize", {"processId": os.getpid(), "rootUri": uri(cws), "capabilities": {}})
s5.response(i)
s5.notify("initialized", {})
for name, want in (("m.py", ["F401"]), ("tests/t.py", [])):
    s5.notify("textDocument/didOpen", {"textDocument": {"uri": uri(cws + "/" + name),
              "languageId": "python", "version": 1, "text": "import os\n"}})
    check("per-file-ignores: " + name, s5.diags(uri(cws + "/" + name), lambda d: codes(d) == want)
          is not None)
i = s5.request("shutdown", None)
s5.response(i)
s5.notify("exit", None)
check("exit 0 (configured)", s5.exit_code() == 0)

# SIGTERM: the server exits (1: no shutdown came)
s3 = Server([strata, "lsp"], cwd="/", env=env)
i = s3.request("initialize", {"processId": os.getpid(), "capabilities": {}})
s3.response(i)
s3.p.terminate()
check("SIGTERM exits 1", s3.exit_code() == 1)

# a client processId that is gone: the server notices and exits
import subprocess as sp
dead = sp.Popen(["true"]); dead.wait()
s4 = Server([strata, "lsp"], cwd="/", env=env)
i = s4.request("initialize", {"processId": dead.pid, "capabilities": {}})
s4.response(i)
check("gone processId exits", s4.exit_code(timeout=10) == 1)
if failures:
    print("stderr of the server:\n" + "".join(s.stderr))
sys.exit(1 if failures else 0)
PY
rc=$?
cat "$tmp/py.out"
passed=$((passed + $(grep -c '^ok ' "$tmp/py.out")))
failed=$((failed + $(grep -c '^FAIL ' "$tmp/py.out")))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# the command line: --help, a bad check option, a bad size
expect "lsp --help" 0 lsp --help
has "lsp --help" "$out" "usage: strata lsp"
expect "lsp bad option" 2 lsp --bogus </dev/null
has "lsp bad option" "$err" "unknown option"
expect "lsp bad size" 2 lsp --max-message-size 0 </dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
