#!/usr/bin/env bash
# test_lsp_clients.sh - `strata lsp` driven by two real clients: Debian's
# neovim 0.7.2, headless, with its own LSP client (tests/e2e/lsp_client.lua),
# and npm's vscode-languageserver-protocol, VS Code's client library
# (tests/e2e/lsp_client.js). Both play an editor's session on a workspace
# holding a copy of the standard library's textwrap.py and a small package:
# - typing an unused import in textwrap.py reports F401, deleting it (the
#   node client: with the server's code action) clears it, and so does
#   closing the buffer unsaved with the import in it (the file on the disk
#   takes its place); an untitled: buffer (VS Code's new file) gets its
#   F401 too, cleared when it is closed;
# - a line typed after U+1F600 in pkg/c.py gets its F821 at strata check's
#   column (neovim counts UTF-16 units, the node client UTF-8 bytes);
# - renaming pkg/a.py's `name` and saving reports E0611 for pkg/b.py,
#   which imports it, and the fix clears it; the node client also makes
#   and removes a module on the disk, told through the file watchers the
#   server registered, and asks for pull diagnostics;
# - at the end, what the server published for the workspace equals
#   `strata check --output-format json` line for line (positions converted
#   to its 1-based byte columns);
# - shutdown and exit end the server with status 0; a server whose stdin
#   closes, or whose parent (initialize's processId) dies, exits alone.
#
# The drivers take the server and the codes as parameters; with
# LSPC_REFERENCE=pyright this script runs the same scenario against
# pyright's language server (scripts/bench-deps.sh installs it; its codes
# reportUnusedImport, reportUndefinedVariable and
# reportAttributeAccessIssue, no code action, no comparison with strata
# check), which proves the harness against a server we did not write.
# Needs neovim and tests/node's packages in .deps/test-node
# (scripts/bootstrap.sh). Usage: test_lsp_clients.sh PATH-TO-STRATA REPO-ROOT
set -u

E2E_NAME=lsp-clients
. "$(dirname "$0")/lib.sh" "$@"

modules="$repo/.deps/test-node/node_modules"
if ! command -v nvim >/dev/null 2>&1; then
    fail "no nvim: run scripts/bootstrap.sh"
fi
if [ ! -d "$modules/vscode-languageserver-protocol" ]; then
    fail "no vscode-languageserver-protocol in $modules: run scripts/bootstrap.sh"
fi
[ "$failed" -eq 0 ] || exit 1

# ---- the workspace ---------------------------------------------------------
ws="$tmp/ws"
mkdir -p "$ws/pkg"
cp /usr/lib/python3.11/textwrap.py "$ws/textwrap.py"
: >"$ws/pkg/__init__.py"
printf 'name = 1\n' >"$ws/pkg/a.py"
printf 'from pkg.a import name\n\nprint(name)\n' >"$ws/pkg/b.py"
printf "import json\ns = 'caf\xc3\xa9'; print(s, undefined_name)\n" >"$ws/pkg/c.py"

case "${LSPC_REFERENCE:-strata}" in
strata)
    server=("$strata" lsp)
    unused=F401 missing=E0611 undefined=F821 settings='{}' code_action=true watchers=true
    # what strata check prints for the workspace, by absolute path
    (cd "$ws" && "$strata" check --no-cache -q --output-format json . >"$tmp/check.json")
    expect=$(python3 - "$ws" "$tmp/check.json" <<'EOF'
import json, os, sys
ws, report = sys.argv[1], json.load(open(sys.argv[2]))
by_path = {}
for d in report:
    path = os.path.normpath(os.path.join(ws, d["filename"]))
    by_path.setdefault(path, []).append(
        {k: d[k] for k in ("line", "column", "code", "message")})
print(json.dumps(by_path))
EOF
    )
    has "strata check reports pkg/c.py" "$expect" "undefined_name"
    ;;
pyright)
    server=("$repo/.deps/node/node_modules/.bin/pyright-langserver" --stdio)
    unused=reportUnusedImport missing=reportAttributeAccessIssue
    undefined=reportUndefinedVariable
    settings='{"python": {"analysis": {"diagnosticMode": "workspace"}}}'
    code_action=false watchers=true # pyright offers no fix for an unused import
    printf '{"reportUnusedImport": "warning"}\n' >"$ws/pyrightconfig.json"
    expect=null
    ;;
*)
    fail "LSPC_REFERENCE is strata or pyright"
    exit 1
    ;;
esac

# config.json for both drivers (see the head of each)
python3 - "$tmp/config.json" "$ws" "$unused" "$missing" "$undefined" "$settings" "$code_action" \
    "$watchers" "$expect" "${server[@]}" <<'EOF'
import json, sys
out, ws, unused, missing, undefined, settings, code_action, watchers, expect = sys.argv[1:10]
cfg = {"cmd": sys.argv[10:], "root": ws, "unused_code": unused, "missing_code": missing,
       "undefined_code": undefined, "watchers": watchers == "true",
       "settings": json.loads(settings), "code_action": code_action == "true",
       "timeout_ms": 10000}
if json.loads(expect) is not None:
    cfg["expect"] = json.loads(expect)
json.dump(cfg, open(out, "w"))
EOF

# ---- neovim ----------------------------------------------------------------
# the server's files (its cache, as strata check's) aside, the session
# saves nothing but what it restores
files() { (cd "$ws" && find . -path ./.strata-cache -prune -o -type f -print | sort | xargs sha256sum); }
before=$(files)
# neovim's own files (its LSP log, where the server's stderr goes) in $tmp
if XDG_CACHE_HOME="$tmp/xdg-cache" XDG_STATE_HOME="$tmp/xdg-state" XDG_DATA_HOME="$tmp/xdg-data" \
    LSPC_CONFIG="$tmp/config.json" timeout 120 nvim --headless -u NONE -i NONE -n \
    -c "luafile $repo/tests/e2e/lsp_client.lua" >"$tmp/nvim.out" 2>"$tmp/nvim.err"; then
    pass
else
    fail "neovim's session (exit $?): $(cat "$tmp/nvim.err" "$tmp/nvim.out")"
    echo "neovim's LSP log:" >&2
    tail -n 20 "$tmp/xdg-cache/nvim/lsp.log" >&2
fi
after=$(files)
if [ "$before" = "$after" ]; then pass; else
    fail "neovim's session left the workspace changed: $(diff <(echo "$before") <(echo "$after"))"
fi

# ---- VS Code's client library ----------------------------------------------
if timeout 120 node "$repo/tests/e2e/lsp_client.js" "$modules" "$tmp/config.json" \
    >"$tmp/node.out" 2>"$tmp/node.err"; then
    pass
else
    fail "vscode-languageserver-protocol's session (exit $?): $(cat "$tmp/node.err" "$tmp/node.out")"
fi

echo "lsp clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
