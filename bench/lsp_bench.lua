-- lsp_bench.lua - the client side of bench/lsp_bench.py: neovim 0.7.2
-- headless, with its own LSP client, drives one language server through
-- the same edits of a copy of the standard library and times, with
-- vim.loop.hrtime() inside neovim (so the client's own cost is the same
-- for every server), each step from the call that makes it to the
-- publishDiagnostics that answers it. lsp_bench.py runs it once per
-- server and prints the comparison.
--
-- LSPC_CONFIG names a JSON file: cmd (the server's argv), root (the copy
-- of the standard library), edits (single-character edits in dedent's
-- body), import_rounds (an unused `import os` added and removed), save_rounds
-- (_aix_support.aix_platform renamed and restored, saved: sysconfig.py
-- imports it),
-- settings (workspace/configuration's answers), timeout_ms, out (where
-- the results go, JSON, times in ms). A step that times out is recorded
-- as null and the run goes on.

local cfg = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('LSPC_CONFIG')), '\n'))
local timeout = cfg.timeout_ms or 30000
local res = { errors = {} }
local events = {} -- path -> list of {t, version, diagnostics}
local exited = nil

local function ms(ns) return ns / 1e6 end
local function err(msg)
    table.insert(res.errors, msg)
    io.stderr:write('lsp_bench: ' .. msg .. '\n')
end

local handlers = {
    ['textDocument/publishDiagnostics'] = function(_, result)
        local t = vim.loop.hrtime()
        local path = vim.uri_to_fname(result.uri)
        events[path] = events[path] or {}
        table.insert(events[path], { t = t, version = result.version, diagnostics = result.diagnostics })
    end,
}

local capabilities = vim.lsp.protocol.make_client_capabilities()
if cfg.settings ~= nil and next(cfg.settings) ~= nil then
    capabilities.workspace.configuration = true
end
local t_start = vim.loop.hrtime()
local client_id = vim.lsp.start_client {
    cmd = cfg.cmd, root_dir = cfg.root, name = 'bench', capabilities = capabilities,
    flags = { debounce_text_changes = 0 }, settings = cfg.settings or vim.empty_dict(),
    handlers = handlers,
    on_exit = function(code, signal) exited = { code = code, signal = signal } end,
}
local client = vim.lsp.get_client_by_id(client_id)

local function write_out()
    vim.fn.writefile({ vim.fn.json_encode(res) }, cfg.out)
end
local function finish()
    write_out()
    vim.cmd('qall!')
end

-- first_after(path, t0, pred): the time of the first publish for path
-- after t0 that satisfies pred(event), waiting up to timeout; nil if none
local function first_after(path, t0, pred)
    local found = nil
    vim.wait(timeout, function()
        for _, e in ipairs(events[path] or {}) do
            if e.t >= t0 and pred(e) then
                found = e
                return true
            end
        end
        return exited ~= nil
    end, 1)
    return found
end

if not vim.wait(timeout, function() return client.initialized or exited ~= nil end, 1)
    or exited ~= nil then
    err('initialize failed')
    finish()
end
res.initialize_ms = ms(vim.loop.hrtime() - t_start)
res.server_pid = client.rpc.pid

local function open(path)
    vim.cmd('edit ' .. vim.fn.fnameescape(path))
    local bufnr = vim.api.nvim_get_current_buf()
    vim.bo[bufnr].filetype = 'python'
    local t0 = vim.loop.hrtime()
    vim.lsp.buf_attach_client(bufnr, client_id)
    local e = first_after(path, t0, function() return true end)
    return bufnr, e and ms(e.t - t0) or nil
end

local function line_of(bufnr, pattern)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)) do
        if l:match(pattern) then return i - 1 end
    end
    error('no line matches ' .. pattern)
end

-- edit(bufnr, path, f): runs f (one buffer change), returns the ms until
-- the server publishes for that version (or, without versions, publishes
-- at all)
local function edit(bufnr, path, f)
    local t0 = vim.loop.hrtime()
    f()
    local v = vim.lsp.util.buf_versions[bufnr]
    local e = first_after(path, t0, function(e) return e.version == nil or e.version >= v end)
    if e == nil then err('no diagnostics for ' .. path .. ' version ' .. v) end
    return e and ms(e.t - t0) or vim.NIL
end

-- 1. open textwrap.py: the time to its first diagnostics
local tw = cfg.root .. '/textwrap.py'
local twbuf, first = open(tw)
res.first_diagnostics_ms = first or vim.NIL
if first == nil then err('no first diagnostics for textwrap.py') end

-- 2. single characters typed and deleted in dedent's `margin = None`
res.edit_ms = {}
local l = line_of(twbuf, '^    margin = None')
for i = 1, cfg.edits do
    table.insert(res.edit_ms, edit(twbuf, tw, function()
        if i % 2 == 1 then
            vim.api.nvim_buf_set_text(twbuf, l, 10, l, 10, { 'x' })
        else
            vim.api.nvim_buf_set_text(twbuf, l, 10, l, 11, { '' })
        end
    end))
end

-- 3. an unused import added below `import re`, then removed
res.import_ms = {}
local il = line_of(twbuf, '^import re') + 1
for _ = 1, cfg.import_rounds do
    table.insert(res.import_ms, edit(twbuf, tw, function()
        vim.api.nvim_buf_set_lines(twbuf, il, il, true, { 'import os' })
    end))
    table.insert(res.import_ms, edit(twbuf, tw, function()
        vim.api.nvim_buf_set_lines(twbuf, il, il + 1, true, {})
    end))
end

-- 4. _aix_support.aix_platform renamed and saved: sysconfig.py's `from
-- _aix_support import aix_platform` is reported; restored and saved: it
-- goes. (A module that typeshed lacks, so that pyright, which prefers its
-- stubs for the standard library's names, reads the workspace's copy too.)
-- Timed from :write; 0 when the importer was already right before it,
-- after the edit (a server that checks unsaved buffers across files).
-- Also timed from the edit, which includes waiting for the module's own
-- diagnostics before the write: pyright starts on the importer then.
local module, importer = cfg.root .. '/_aix_support.py', cfg.root .. '/sysconfig.py'
local ibuf, ifirst = open(importer)
res.importer_first_ms = ifirst or vim.NIL
local pl = line_of(ibuf, '^%s*from _aix_support import aix_platform$')
local mbuf = open(module)
local ql = line_of(mbuf, '^def aix_platform%(')
local function reported(e)
    for _, d in ipairs(e.diagnostics) do
        if d.range.start.line == pl and d.message:find('aix_platform', 1, true) then return true end
    end
    return false
end
local function latest(path)
    local es = events[path] or {}
    return es[#es]
end
res.save_ms, res.edit_importer_ms, res.save_before_write = {}, {}, 0
local function save_round(new, want)
    local t_edit = vim.loop.hrtime()
    edit(mbuf, module, function() vim.api.nvim_buf_set_text(mbuf, ql, 4, ql, 4 + #new, { new }) end)
    local t0 = vim.loop.hrtime()
    local now = latest(importer)
    vim.api.nvim_buf_call(mbuf, function() vim.cmd('silent write') end)
    if now ~= nil and now.t >= t_edit and reported(now) == want then
        res.save_before_write = res.save_before_write + 1
        table.insert(res.save_ms, 0)
        table.insert(res.edit_importer_ms, ms(now.t - t_edit))
        return
    end
    local e = first_after(importer, t0, function(e) return reported(e) == want end)
    if e == nil then
        err('sysconfig.py never ' .. (want and 'reported' or 'cleared') .. ' aix_platform')
    end
    table.insert(res.save_ms, e and ms(e.t - t0) or vim.NIL)
    table.insert(res.edit_importer_ms, e and ms(e.t - t_edit) or vim.NIL)
end
for _ = 1, cfg.save_rounds do
    save_round('aix_platfxrm', true)
    save_round('aix_platform', false)
end

-- 5. peak memory of the server and its descendants (VmHWM, kB, summed)
local function status_kb(pid, field)
    local f = io.open('/proc/' .. pid .. '/status')
    if not f then return 0 end
    local s = f:read('*a')
    f:close()
    return tonumber(s:match(field .. ':%s+(%d+)')) or 0
end
local function children(pid)
    local out = {}
    for _, name in ipairs(vim.fn.readdir('/proc')) do
        if name:match('^%d+$') then
            local f = io.open('/proc/' .. name .. '/stat')
            if f then
                local s = f:read('*a') or ''
                f:close()
                local ppid = s:match('%) %S+ (%d+)')
                if tonumber(ppid) == pid then table.insert(out, tonumber(name)) end
            end
        end
    end
    return out
end
local pending, hwm, procs = { res.server_pid }, 0, 0
while #pending > 0 do
    local pid = table.remove(pending)
    hwm = hwm + status_kb(pid, 'VmHWM')
    procs = procs + 1
    vim.list_extend(pending, children(pid))
end
res.peak_rss_kb, res.processes = hwm, procs

-- 6. shutdown and exit
client.stop()
vim.wait(10000, function() return exited ~= nil end, 5)
res.exit = exited or vim.NIL
finish()
