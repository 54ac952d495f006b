-- lsp_client.lua - neovim's own LSP client (Debian's neovim 0.7.2,
-- headless) driving a language server through the scenario of
-- tests/e2e/test_lsp_clients.sh: a real editor's didOpen, didChange (from
-- buffer edits, incremental, not debounced), :write (didSave, and willSave
-- if the server asks for it), :bwipeout! (didClose), shutdown and exit,
-- with neovim's own position encoding (UTF-16: 0.7 offers no other).
--
-- The server and the expected codes are parameters, so the same driver
-- runs against strata's server and, to prove the harness, against
-- pyright's. Run as
--   LSPC_CONFIG=cfg.json nvim --headless -u NONE -i NONE -n -c 'luafile lsp_client.lua'
-- where cfg.json holds
--   cmd          the server's argv
--   root         the workspace (absolute), holding textwrap.py, pkg/a.py
--                (`name = ...` on its first line), pkg/b.py (imports it),
--                pkg/c.py (any)
--   unused_code  the code of an unused import (F401)
--   missing_code the code of an imported name the module lacks (E0611)
--   undefined_code the code of an undefined name (F821)
--   settings     optional, answers workspace/configuration
--   expect       optional, {absolute path: [{line, column, code, message}]}
--                with 1-based lines and UTF-8 byte columns (strata check
--                --output-format json): what the server must publish, at
--                the end, for the saved workspace, and nothing elsewhere
--   timeout_ms   each wait's limit (default 20000)
-- Exits 0 when every step passed, else 1 after printing on stderr what
-- failed and what had been received.

local cfg = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('LSPC_CONFIG')), '\n'))
local timeout = cfg.timeout_ms or 20000
local failures = 0
local published = {} -- path -> {version, diagnostics, n}
local exited = nil -- the server's {code, signal} once it is gone

local function fail(msg)
    failures = failures + 1
    io.stderr:write('FAIL: nvim: ' .. msg .. '\n')
end

local function summary()
    local out = {}
    for path, e in pairs(published) do
        local ds = {}
        for _, d in ipairs(e.diagnostics) do
            table.insert(ds, string.format('%s@%d:%d %s', tostring(d.code), d.range.start.line,
                d.range.start.character, d.message))
        end
        table.insert(out, string.format('  %s (version %s, %d publishes): %s', path,
            tostring(e.version), e.n, table.concat(ds, ' | ')))
    end
    table.sort(out)
    return 'received:\n' .. table.concat(out, '\n')
end

-- wait_for(what, pred): until pred() holds, at most timeout ms, or until
-- the server is gone
local function wait_for(what, pred)
    vim.wait(timeout, function() return pred() or exited ~= nil end, 2)
    if pred() then return true end
    if exited ~= nil then
        fail(string.format('%s: the server exited (status %d, signal %d); %s', what, exited.code,
            exited.signal, summary()))
    else
        fail(what .. ': not within ' .. timeout .. ' ms; ' .. summary())
    end
    return false
end

local function finish()
    io.stderr:flush()
    vim.cmd(failures == 0 and 'qall!' or 'cquit 1')
end

local function diags(path)
    local e = published[path]
    return e and e.diagnostics or nil
end

-- has(path, code, line, word): a diagnostic CODE on 0-based LINE whose
-- message names WORD
local function has(path, code, line, word)
    for _, d in ipairs(diags(path) or {}) do
        if tostring(d.code) == code and d.range.start.line == line
            and (word == nil or d.message:find(word, 1, true)) then
            return true
        end
    end
    return false
end

local handlers = {
    ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        local path = vim.uri_to_fname(result.uri)
        local e = published[path] or { n = 0 }
        e.version, e.diagnostics, e.n = result.version, result.diagnostics, e.n + 1
        published[path] = e
        -- neovim's own handler too: it must accept what the server sends
        local ok, msg = pcall(vim.lsp.diagnostic.on_publish_diagnostics, err, result, ctx, config)
        if not ok then fail('neovim rejected a publishDiagnostics: ' .. tostring(msg)) end
    end,
}

-- neovim 0.7 answers workspace/configuration from `settings` but does not
-- say so; a server that needs settings (pyright's diagnosticMode) asks
-- only when told
local capabilities = vim.lsp.protocol.make_client_capabilities()
if cfg.settings ~= nil and next(cfg.settings) ~= nil then
    capabilities.workspace.configuration = true
end
local client_id = vim.lsp.start_client {
    capabilities = capabilities,
    cmd = cfg.cmd,
    root_dir = cfg.root,
    name = 'server',
    flags = { debounce_text_changes = 0 },
    settings = cfg.settings or vim.empty_dict(),
    handlers = handlers,
    on_exit = function(code, signal) exited = { code = code, signal = signal } end,
}
if not client_id then
    fail('vim.lsp.start_client failed for ' .. table.concat(cfg.cmd, ' '))
    finish()
end
local client = vim.lsp.get_client_by_id(client_id)
if not wait_for('initialize', function() return client.initialized end) then finish() end
local server_pid = client.rpc.pid
local enc = client.server_capabilities.positionEncoding
if enc ~= nil and enc ~= 'utf-16' then
    fail('server chose positionEncoding ' .. tostring(enc) .. ' that neovim 0.7 never offered')
end

local function open(path)
    vim.cmd('edit ' .. vim.fn.fnameescape(path))
    local bufnr = vim.api.nvim_get_current_buf()
    vim.bo[bufnr].filetype = 'python'
    vim.lsp.buf_attach_client(bufnr, client_id)
    return bufnr
end

local function save(bufnr)
    vim.api.nvim_buf_call(bufnr, function() vim.cmd('silent write') end)
end

local function line_of(bufnr, pattern)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)) do
        if l:match(pattern) then return i - 1 end
    end
    return nil
end

-- as_cli(path, d): the diagnostic as strata check's JSON has it
-- (1-based line, 1-based UTF-8 byte column)
local function as_cli(path, d)
    local lines = vim.fn.bufloaded(path) == 1 and vim.fn.getbufline(path, 1, '$')
        or vim.fn.readfile(path)
    local text = lines[d.range.start.line + 1] or ''
    local ok, col = pcall(vim.str_byteindex, text, d.range.start.character, true)
    return { line = d.range.start.line + 1, column = (ok and col or -1) + 1,
        code = tostring(d.code), message = d.message }
end

-- 1. open the standard library's textwrap.py: its first diagnostics
local tw = cfg.root .. '/textwrap.py'
local twbuf = open(tw)
if not wait_for('first diagnostics of textwrap.py', function() return diags(tw) ~= nil end) then
    finish()
end
local baseline = vim.deepcopy(diags(tw))

-- 2. type an unused `import os` below `import re`: F401 appears on it
local at = (line_of(twbuf, '^import re') or 0) + 1
vim.api.nvim_buf_set_lines(twbuf, at, at, true, { '' })
for i, ch in ipairs(vim.split('import os', '')) do
    vim.api.nvim_buf_set_text(twbuf, at, i - 1, at, i - 1, { ch })
end
wait_for(cfg.unused_code .. " for a typed 'import os'",
    function() return has(tw, cfg.unused_code, at, 'os') end)
local nvim_count = #vim.diagnostic.get(twbuf)
if nvim_count ~= #diags(tw) then
    fail(string.format('vim.diagnostic.get holds %d diagnostics, the server sent %d', nvim_count,
        #diags(tw)))
end

-- 3. delete it: it goes, and textwrap.py is back to its first diagnostics
vim.api.nvim_buf_set_lines(twbuf, at, at + 1, true, {})
wait_for(cfg.unused_code .. " gone with the line", function()
    return not has(tw, cfg.unused_code, at, 'os') and #diags(tw) == #baseline
end)

-- 3c. type it again and close the buffer unsaved (didClose): the file on
-- the disk takes its place, without the import
vim.api.nvim_buf_set_lines(twbuf, at, at, true, { 'import os' })
wait_for(cfg.unused_code .. " for 'import os' pasted", function() return has(tw, cfg.unused_code, at, 'os') end)
vim.cmd('bwipeout! ' .. twbuf)
wait_for(cfg.unused_code .. ' gone when the unsaved buffer is closed',
    function() return not has(tw, cfg.unused_code, at, 'os') end)

-- 3b. type a line after a character outside the BMP (two UTF-16 units, four
-- bytes) in pkg/c.py: the undefined name is reported at its column; delete
-- the line: it goes
local c = cfg.root .. '/pkg/c.py'
local cbuf = open(c)
wait_for('first diagnostics of pkg/c.py', function() return diags(c) ~= nil end)
local cl = vim.api.nvim_buf_line_count(cbuf)
vim.api.nvim_buf_set_lines(cbuf, cl, cl, true, { '' })
local typed = "t = '\240\159\152\128'; print(t, zz)" -- U+1F600
local col = 0
for _, ch in ipairs(vim.fn.split(typed, '\\zs')) do
    vim.api.nvim_buf_set_text(cbuf, cl, col, cl, col, { ch })
    col = col + #ch
end
local zz_col = typed:find('zz', 1, true)
local function zz()
    for _, d in ipairs(diags(c) or {}) do
        if tostring(d.code) == cfg.undefined_code and d.range.start.line == cl
            and d.message:find('zz', 1, true) then
            return d
        end
    end
    return nil
end
wait_for(cfg.undefined_code .. ' for zz typed after U+1F600, at byte column ' .. zz_col,
    function() return zz() ~= nil and as_cli(c, zz()).column == zz_col end)
vim.api.nvim_buf_set_lines(cbuf, cl, cl + 1, true, {})
wait_for(cfg.undefined_code .. ' for zz gone with its line', function() return zz() == nil end)

-- 4. rename pkg/a.py's `name` and save: b.py's import of it is reported
local a, b = cfg.root .. '/pkg/a.py', cfg.root .. '/pkg/b.py'
local abuf = open(a)
wait_for('first diagnostics of pkg/a.py', function() return diags(a) ~= nil end)
local bline = nil
for i, l in ipairs(vim.fn.readfile(b)) do
    if l:match('import name') then bline = i - 1 end
end
vim.api.nvim_buf_set_text(abuf, 0, 0, 0, 4, { 'renamed' })
save(abuf)
wait_for(cfg.missing_code .. ' for pkg/b.py after a.py is saved',
    function() return has(b, cfg.missing_code, bline, 'name') end)

-- 5. rename it back and save: it goes
vim.api.nvim_buf_set_text(abuf, 0, 0, 0, 7, { 'name' })
save(abuf)
wait_for(cfg.missing_code .. ' gone from pkg/b.py after the fix is saved',
    function() return diags(b) ~= nil and not has(b, cfg.missing_code, bline, 'name') end)

-- 6. everything the server published equals what strata check prints
local function key(d) return string.format('%d:%d %s %s', d.line, d.column, d.code, d.message) end
local function same_as_expected()
    for path, want in pairs(cfg.expect) do
        local got = diags(path)
        if got == nil or #got ~= #want then return false end
        local keys = {}
        for _, d in ipairs(got) do keys[key(as_cli(path, d))] = true end
        for _, d in ipairs(want) do if not keys[key(d)] then return false end end
    end
    for path, e in pairs(published) do
        if cfg.expect[path] == nil and #e.diagnostics > 0 then return false end
    end
    return true
end
if cfg.expect ~= nil then
    if not wait_for('the same diagnostics as strata check', same_as_expected) then
        io.stderr:write('expected (1-based line:byte column):\n')
        for path, want in pairs(cfg.expect) do
            for _, d in ipairs(want) do io.stderr:write('  ' .. path .. ' ' .. key(d) .. '\n') end
        end
        io.stderr:write('got, converted:\n')
        for path, e in pairs(published) do
            for _, d in ipairs(e.diagnostics) do
                io.stderr:write('  ' .. path .. ' ' .. key(as_cli(path, d)) .. '\n')
            end
        end
    end
end

-- 7. shutdown and exit: the server answers, exits with status 0 and is gone
client.stop()
if wait_for('the server to exit after shutdown and exit', function()
        return exited ~= nil and vim.loop.kill(server_pid, 0) ~= 0
    end) and (exited.code ~= 0 or exited.signal ~= 0) then
    fail(string.format('the server exited with status %d, signal %d after shutdown and exit',
        exited.code, exited.signal))
end
finish()
