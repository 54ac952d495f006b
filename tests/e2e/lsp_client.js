// lsp_client.js - VS Code's client library (npm's
// vscode-languageserver-protocol, pinned in tests/node) driving a language
// server through the scenario of tests/e2e/test_lsp_clients.sh, as an
// editor built on it would: incremental didChange per typed character,
// didSave after the file is written (and didChangeWatchedFiles when the
// server registered a watcher), pull diagnostics and a code action for the
// unused import when the server advertises them, shutdown and exit, then a
// second server left by its client (stdin closed) and a third whose
// parent (initialize's processId) dies, each of which must exit alone.
// It offers the UTF-8 and UTF-16 position encodings and uses the one the
// server picks (neovim's driver covers UTF-16 alone).
//
// Usage: node lsp_client.js NODE_MODULES CONFIG.json; the configuration is
// that of tests/e2e/lsp_client.lua (cmd, root, unused_code, missing_code,
// settings, expect, timeout_ms), plus code_action (default true): the
// server must offer an edit that removes the unused import, and watchers
// (default false): it must register file watchers, through which a module
// made and removed outside the editor is reported and cleared (done
// whenever it registers them). Exits 0 when
// every step passed, else 1 after printing what failed and what had been
// received.
'use strict';
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const url = require('url');

const [modules, cfgPath] = process.argv.slice(2);
const P = require(path.join(modules, 'vscode-languageserver-protocol', 'node'));
const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
const timeout = cfg.timeout_ms || 20000;
let failures = 0;

function fail(msg) {
    failures++;
    process.stderr.write(`FAIL: node: ${msg}\n`);
}

const uriOf = (p) => url.pathToFileURL(p).href;
// published diagnostics are kept by path, or by URI when not a file: URI
const pathOf = (u) => (u.startsWith('file:') ? url.fileURLToPath(u) : u);
const lines = (text) => text.split(/\r\n|\r|\n/);

// Positions: `character` counts units of the negotiated encoding.
let encoding = 'utf-16';
function jsIndex(line, character) {
    if (encoding === 'utf-16') return Math.min(character, line.length);
    let i = 0;
    for (let n = 0; n < character && i < line.length;) {
        const cpt = line.codePointAt(i);
        n += encoding === 'utf-8' ? Buffer.byteLength(String.fromCodePoint(cpt)) : 1;
        i += cpt > 0xffff ? 2 : 1;
    }
    return i;
}
function offsetOf(text, pos) {
    const ls = lines(text);
    let off = 0;
    for (let l = 0; l < pos.line && l < ls.length; l++) off += ls[l].length + 1;
    return off + jsIndex(ls[pos.line] || '', pos.character);
}
function applyEdits(text, edits) {
    const sorted = [...edits].sort((a, b) => offsetOf(text, b.range.start) - offsetOf(text, a.range.start));
    for (const e of sorted) {
        text = text.slice(0, offsetOf(text, e.range.start)) + e.newText +
            text.slice(offsetOf(text, e.range.end));
    }
    return text;
}

// ---- a server and what it publishes ----------------------------------------
function start() {
    const child = cp.spawn(cfg.cmd[0], cfg.cmd.slice(1), { cwd: cfg.root, stdio: ['pipe', 'pipe', 'inherit'] });
    const s = { child, published: new Map(), watchers: false, exited: null };
    child.on('exit', (code, signal) => { s.exited = { code, signal }; });
    child.stdin.on('error', () => {});
    s.conn = P.createProtocolConnection(new P.StreamMessageReader(child.stdout),
        new P.StreamMessageWriter(child.stdin));
    s.conn.onNotification(P.PublishDiagnosticsNotification.type, (p) => {
        const e = s.published.get(pathOf(p.uri)) || { n: 0 };
        s.published.set(pathOf(p.uri), { version: p.version, diagnostics: p.diagnostics, n: e.n + 1 });
    });
    s.conn.onRequest(P.ConfigurationRequest.type, (p) => p.items.map((it) => {
        let v = cfg.settings || {};
        for (const k of (it.section || '').split('.').filter((x) => x)) v = v && v[k];
        return v === undefined ? null : v;
    }));
    s.conn.onRequest(P.RegistrationRequest.type, (p) => {
        for (const r of p.registrations) {
            if (r.method === 'workspace/didChangeWatchedFiles') s.watchers = true;
        }
        return null;
    });
    s.conn.onRequest(P.WorkDoneProgressCreateRequest.type, () => null);
    s.conn.onNotification(P.LogMessageNotification.type, () => {});
    s.conn.onNotification(P.ShowMessageNotification.type, (p) => process.stderr.write(`server says: ${p.message}\n`));
    s.conn.onUnhandledNotification(() => {});
    s.conn.listen();
    return s;
}

const capabilities = {
    general: { positionEncodings: ['utf-8', 'utf-16'] },
    textDocument: {
        synchronization: { didSave: true, willSave: false, dynamicRegistration: false },
        publishDiagnostics: { versionSupport: true, relatedInformation: true },
        diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false },
        codeAction: {
            codeActionLiteralSupport: {
                codeActionKind: { valueSet: ['quickfix', 'source', 'source.fixAll', 'source.organizeImports'] },
            },
            isPreferredSupport: true,
        },
    },
    workspace: {
        configuration: true, workspaceFolders: true, applyEdit: true,
        workspaceEdit: { documentChanges: true },
        didChangeWatchedFiles: { dynamicRegistration: true },
    },
    window: { workDoneProgress: true },
};

async function initialize(s, processId = process.pid) {
    const r = await s.conn.sendRequest(P.InitializeRequest.type, {
        processId, rootUri: uriOf(cfg.root), capabilities,
        workspaceFolders: [{ uri: uriOf(cfg.root), name: path.basename(cfg.root) }],
        clientInfo: { name: 'strata-e2e-vscode-languageserver-protocol' },
    });
    await s.conn.sendNotification(P.InitializedNotification.type, {});
    return r.capabilities;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function summary(s) {
    const out = [];
    for (const [p, e] of s.published) {
        const ds = e.diagnostics.map((d) => `${d.code}@${d.range.start.line}:${d.range.start.character} ${d.message}`);
        out.push(`  ${p} (version ${e.version}, ${e.n} publishes): ${ds.join(' | ')}`);
    }
    return 'received:\n' + out.sort().join('\n');
}
async function waitFor(s, what, pred) {
    const end = Date.now() + timeout;
    while (Date.now() < end && !pred() && s.exited === null) await sleep(2);
    if (pred()) return true;
    if (s.exited !== null) fail(`${what}: the server exited ${JSON.stringify(s.exited)}; ${summary(s)}`);
    else fail(`${what}: not within ${timeout} ms; ${summary(s)}`);
    return false;
}
const diags = (s, p) => (s.published.get(p) || {}).diagnostics;
const isAt = (d, code, line, word) => String(d.code) === code && d.range.start.line === line &&
    (word === undefined || d.message.includes(word));
const has = (s, p, code, line, word) => (diags(s, p) || []).some((d) => isAt(d, code, line, word));

// ---- documents the client holds open ----------------------------------------
const docs = new Map(); // path -> {text, version}
async function open(s, p) {
    const d = { text: fs.readFileSync(p, 'utf8'), version: 1 };
    docs.set(p, d);
    await s.conn.sendNotification(P.DidOpenTextDocumentNotification.type, {
        textDocument: { uri: uriOf(p), languageId: 'python', version: 1, text: d.text },
    });
}
async function change(s, p, edits) {
    const d = docs.get(p);
    d.text = applyEdits(d.text, edits);
    d.version++;
    await s.conn.sendNotification(P.DidChangeTextDocumentNotification.type, {
        textDocument: { uri: uriOf(p), version: d.version },
        contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })),
    });
}
async function save(s, p, caps) {
    fs.writeFileSync(p, docs.get(p).text);
    if (s.watchers) {
        await s.conn.sendNotification(P.DidChangeWatchedFilesNotification.type,
            { changes: [{ uri: uriOf(p), type: P.FileChangeType.Changed }] });
    }
    const sync = caps.textDocumentSync;
    const saveOpt = typeof sync === 'object' ? sync.save : undefined;
    if (saveOpt) {
        await s.conn.sendNotification(P.DidSaveTextDocumentNotification.type, {
            textDocument: { uri: uriOf(p) },
            text: typeof saveOpt === 'object' && saveOpt.includeText ? docs.get(p).text : undefined,
        });
    }
}
const at = (line, character) => ({ line, character });
const range = (l1, c1, l2, c2) => ({ start: at(l1, c1), end: at(l2, c2) });

// A workspace edit's text edits for one path (changes or documentChanges).
function editsFor(edit, p) {
    const out = [];
    for (const [u, es] of Object.entries(edit.changes || {})) if (pathOf(u) === p) out.push(...es);
    for (const dc of edit.documentChanges || []) {
        if (dc.textDocument && pathOf(dc.textDocument.uri) === p) out.push(...dc.edits);
    }
    return out;
}

function asCli(p, d) {
    const text = docs.has(p) ? docs.get(p).text : fs.readFileSync(p, 'utf8');
    const line = lines(text)[d.range.start.line] || '';
    return {
        line: d.range.start.line + 1,
        column: Buffer.byteLength(line.slice(0, jsIndex(line, d.range.start.character))) + 1,
        code: String(d.code), message: d.message,
    };
}
const key = (d) => `${d.line}:${d.column} ${d.code} ${d.message}`;
function sameAsExpected(s) {
    for (const [p, want] of Object.entries(cfg.expect)) {
        const got = diags(s, p);
        if (!got || got.length !== want.length) return false;
        const keys = new Set(got.map((d) => key(asCli(p, d))));
        if (!want.every((d) => keys.has(key(d)))) return false;
    }
    for (const [p, e] of s.published) {
        if (!(p in cfg.expect) && e.diagnostics.length > 0) return false;
    }
    return true;
}

async function session() {
    const s = start();
    const caps = await initialize(s);
    process.stdout.write(`server capabilities: ${JSON.stringify(caps)}\n`);
    encoding = caps.positionEncoding || 'utf-16';
    if (!capabilities.general.positionEncodings.includes(encoding)) {
        fail(`server chose positionEncoding ${encoding}, not offered`);
    }

    // 1. open textwrap.py: its first diagnostics
    const tw = path.join(cfg.root, 'textwrap.py');
    await open(s, tw);
    if (!await waitFor(s, 'first diagnostics of textwrap.py', () => diags(s, tw) !== undefined)) return s;
    const baseline = diags(s, tw);
    const original = docs.get(tw).text;

    // 2. type `import os` on a new line below `import re`, one character a change
    const line = lines(original).findIndex((l) => /^import re/.test(l)) + 1;
    await change(s, tw, [{ range: range(line, 0, line, 0), newText: '\n' }]);
    for (const [i, ch] of [...'import os'].entries()) {
        await change(s, tw, [{ range: range(line, i, line, i), newText: ch }]);
    }
    await waitFor(s, `${cfg.unused_code} for a typed 'import os'`, () => has(s, tw, cfg.unused_code, line, 'os'));
    const f401 = (diags(s, tw) || []).find((d) => isAt(d, cfg.unused_code, line, 'os'));

    // pulled diagnostics say the same
    if (caps.diagnosticProvider) {
        const r = await s.conn.sendRequest(P.DocumentDiagnosticRequest.type, { textDocument: { uri: uriOf(tw) } });
        if (r.kind !== 'full' || !r.items.some((d) => isAt(d, cfg.unused_code, line, 'os'))) {
            fail(`textDocument/diagnostic has no ${cfg.unused_code} on line ${line}: ${JSON.stringify(r)}`);
        }
    }

    // 3. the code action removes the import, else the line is deleted by hand
    let edits = [{ range: range(line, 0, line + 1, 0), newText: '' }];
    if (cfg.code_action !== false) {
        if (!caps.codeActionProvider) {
            fail('no codeActionProvider');
        } else if (f401) {
            const actions = await s.conn.sendRequest(P.CodeActionRequest.type, {
                textDocument: { uri: uriOf(tw) }, range: f401.range,
                context: { diagnostics: [f401], triggerKind: 1 },
            }) || [];
            process.stdout.write(`code actions: ${JSON.stringify(actions)}\n`);
            // the one whose edit takes the import out (others may add `# noqa`)
            const fix = actions.find((a) => a.edit && /^(quickfix|source\.fixAll)/.test(a.kind || '') &&
                applyEdits(docs.get(tw).text, editsFor(a.edit, tw)) === original);
            if (!fix) {
                fail(`no quickfix or source.fixAll edit removes the unused import: ${JSON.stringify(actions)}`);
            } else {
                edits = editsFor(fix.edit, tw);
            }
        }
    }
    await change(s, tw, edits);
    await waitFor(s, `${cfg.unused_code} gone with the import`, () =>
        !has(s, tw, cfg.unused_code, line, 'os') && diags(s, tw).length === baseline.length);

    // 3c. paste it again and close the document unsaved (didClose): the file
    // on the disk takes its place, without the import
    await change(s, tw, [{ range: range(line, 0, line, 0), newText: 'import os\n' }]);
    await waitFor(s, `${cfg.unused_code} for 'import os' pasted`, () => has(s, tw, cfg.unused_code, line, 'os'));
    docs.delete(tw);
    await s.conn.sendNotification(P.DidCloseTextDocumentNotification.type, { textDocument: { uri: uriOf(tw) } });
    await waitFor(s, `${cfg.unused_code} gone when the unsaved document is closed`,
        () => !has(s, tw, cfg.unused_code, line, 'os'));

    // 3d. a new buffer not saved yet (VS Code's untitled: URIs) gets its
    // per-file diagnostics; closed, they are cleared
    const untitled = 'untitled:Untitled-1';
    await s.conn.sendNotification(P.DidOpenTextDocumentNotification.type, {
        textDocument: { uri: untitled, languageId: 'python', version: 1, text: 'import os\n' },
    });
    await waitFor(s, `${cfg.unused_code} in an untitled buffer`, () => has(s, untitled, cfg.unused_code, 0, 'os'));
    await s.conn.sendNotification(P.DidCloseTextDocumentNotification.type, { textDocument: { uri: untitled } });
    await waitFor(s, 'the untitled buffer cleared when closed', () => (diags(s, untitled) || [1]).length === 0);

    // 3b. type a line after a character outside the BMP in pkg/c.py (four
    // UTF-8 bytes, two UTF-16 units): the undefined name is reported at its
    // column; delete the line: it goes
    const c = path.join(cfg.root, 'pkg', 'c.py');
    await open(s, c);
    await waitFor(s, 'first diagnostics of pkg/c.py', () => diags(s, c) !== undefined);
    const cl = lines(docs.get(c).text).length - 1; // the text ends with a newline
    const typed = "t = '\u{1F600}'; print(t, zz)\n";
    let prefix = '';
    for (const ch of typed) {
        const units = encoding === 'utf-8' ? Buffer.byteLength(prefix)
            : encoding === 'utf-16' ? prefix.length : [...prefix].length;
        await change(s, c, [{ range: range(cl, units, cl, units), newText: ch }]);
        prefix += ch;
    }
    const zzCol = Buffer.byteLength(typed.slice(0, typed.indexOf('zz'))) + 1;
    const zz = () => (diags(s, c) || []).find((d) => isAt(d, cfg.undefined_code, cl, 'zz'));
    await waitFor(s, `${cfg.undefined_code} for zz typed after U+1F600, at byte column ${zzCol}`,
        () => zz() !== undefined && asCli(c, zz()).column === zzCol);
    await change(s, c, [{ range: range(cl, 0, cl + 1, 0), newText: '' }]);
    await waitFor(s, `${cfg.undefined_code} for zz gone with its line`, () => zz() === undefined);

    // 4. rename pkg/a.py's `name`, save: b.py's import of it is reported
    const a = path.join(cfg.root, 'pkg', 'a.py');
    const b = path.join(cfg.root, 'pkg', 'b.py');
    const bline = lines(fs.readFileSync(b, 'utf8')).findIndex((l) => l.includes('import name'));
    await open(s, a);
    await waitFor(s, 'first diagnostics of pkg/a.py', () => diags(s, a) !== undefined);
    await change(s, a, [{ range: range(0, 0, 0, 4), newText: 'renamed' }]);
    await save(s, a, caps);
    await waitFor(s, `${cfg.missing_code} for pkg/b.py after a.py is saved`,
        () => has(s, b, cfg.missing_code, bline, 'name'));

    // 5. rename it back, save: it goes
    await change(s, a, [{ range: range(0, 0, 0, 7), newText: 'name' }]);
    await save(s, a, caps);
    await waitFor(s, `${cfg.missing_code} gone from pkg/b.py after the fix is saved`,
        () => diags(s, b) !== undefined && !has(s, b, cfg.missing_code, bline, 'name'));

    // 5b. a module made outside the editor, then removed, as the file watchers
    // the server registered see it: its bad import is reported, then cleared
    process.stdout.write(`file watchers registered: ${s.watchers}\n`);
    if (s.watchers) {
        const d = path.join(cfg.root, 'pkg', 'd.py');
        const watched = (type) => s.conn.sendNotification(P.DidChangeWatchedFilesNotification.type,
            { changes: [{ uri: uriOf(d), type }] });
        fs.writeFileSync(d, 'from pkg.a import nope\n');
        await watched(P.FileChangeType.Created);
        await waitFor(s, `${cfg.missing_code} for pkg/d.py made on the disk`,
            () => has(s, d, cfg.missing_code, 0, 'nope'));
        fs.unlinkSync(d);
        await watched(P.FileChangeType.Deleted);
        await waitFor(s, `${cfg.missing_code} gone with pkg/d.py removed from the disk`,
            () => !has(s, d, cfg.missing_code, 0, 'nope'));
    } else if (cfg.watchers) {
        fail('the server registered no workspace/didChangeWatchedFiles watcher');
    }

    // 6. everything published equals what strata check prints
    if (cfg.expect && !await waitFor(s, 'the same diagnostics as strata check', () => sameAsExpected(s))) {
        process.stderr.write('expected (1-based line:byte column):\n');
        for (const [p, want] of Object.entries(cfg.expect)) for (const d of want) process.stderr.write(`  ${p} ${key(d)}\n`);
        process.stderr.write('got, converted:\n');
        for (const [p, e] of s.published) for (const d of e.diagnostics) process.stderr.write(`  ${p} ${key(asCli(p, d))}\n`);
    }

    // 7. shutdown and exit: the server answers, exits with status 0
    const r = await s.conn.sendRequest(P.ShutdownRequest.type);
    if (r !== null && r !== undefined) fail(`shutdown answered ${JSON.stringify(r)}, not null`);
    await s.conn.sendNotification(P.ExitNotification.type);
    if (await waitFor(s, 'the server to exit after shutdown and exit', () => s.exited !== null)) {
        if (s.exited.code !== 0) fail(`the server exited ${JSON.stringify(s.exited)} after shutdown and exit`);
    }
    return s;
}

// 8. a server whose client goes away (stdin closed, no shutdown) exits alone
async function abandoned() {
    const s = start();
    await initialize(s);
    await open(s, path.join(cfg.root, 'pkg', 'b.py'));
    await waitFor(s, 'first diagnostics of pkg/b.py (second server)',
        () => diags(s, path.join(cfg.root, 'pkg', 'b.py')) !== undefined);
    s.conn.dispose();
    s.child.stdin.end();
    const end = Date.now() + 5000;
    while (Date.now() < end && s.exited === null) await sleep(10);
    if (s.exited === null) {
        fail('the server did not exit within 5 s of its stdin closing');
        s.child.kill('SIGKILL');
    } else if (s.exited.signal !== null) {
        fail(`the server died of ${s.exited.signal} when its stdin closed`);
    }
}

// 9. a server whose parent (initialize's processId) dies exits alone, its
// pipes still open (the spec: "If the parent process is not alive then the
// server should exit")
async function orphaned() {
    const parent = cp.spawn('sleep', ['120'], { stdio: 'ignore' });
    const s = start();
    await initialize(s, parent.pid);
    await open(s, path.join(cfg.root, 'pkg', 'b.py'));
    await waitFor(s, 'first diagnostics of pkg/b.py (third server)',
        () => diags(s, path.join(cfg.root, 'pkg', 'b.py')) !== undefined);
    parent.kill('SIGKILL');
    const end = Date.now() + 10000;
    while (Date.now() < end && s.exited === null) await sleep(10);
    if (s.exited === null) {
        fail(`the server did not exit within 10 s of its parent (processId ${parent.pid}) dying`);
        s.child.kill('SIGKILL');
    }
}

(async () => {
    const t = setTimeout(() => { fail('the whole session took over 110 s'); process.exit(1); }, 110000);
    let s = null;
    try {
        s = await session();
        docs.clear();
        await abandoned();
        docs.clear();
        await orphaned();
    } catch (e) {
        fail(`${e && e.stack ? e.stack : e}`);
    }
    if (s && s.exited === null) s.child.kill('SIGKILL');
    clearTimeout(t);
    process.exit(failures === 0 ? 0 : 1);
})();
