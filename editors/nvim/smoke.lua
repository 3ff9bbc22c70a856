-- A smoke run of `trellis lsp` under Neovim's built-in client (0.7 or
-- later), headless, on tests/lsp/set; nothing is saved. From the repository
-- root:
--   TRELLIS=target/debug/trellis nvim --headless -u editors/nvim/smoke.lua -c "lua Run()"
-- then read /tmp/trellis-nvim-smoke.txt: the E004 of a misspelt role, the
-- W104 left once it is undone, the definition and hover of `viewer`, and the
-- roles completed after `role:`.
local out = {}
local function log(s) table.insert(out, s) end
vim.api.nvim_create_autocmd("FileType", { pattern = "yaml", callback = function(ev)
  local id = vim.lsp.start_client({ name = "trellis", cmd = { os.getenv("TRELLIS"), "lsp" }, root_dir = vim.fn.getcwd() })
  vim.lsp.buf_attach_client(ev.buf, id)
end })
function Run()
  vim.cmd("edit tests/lsp/set/acme.yaml")
  -- misspell viewer -> viewr on the last line (unsaved)
  vim.cmd([[%s/role: viewer/role: viewr/]])
  vim.wait(3000, function() return #vim.diagnostic.get(0) > 0 and vim.diagnostic.get(0)[1].code == "E004" end, 50)
  for _, d in ipairs(vim.diagnostic.get(0)) do log(string.format("diag %s %d:%d %s", d.code, d.lnum, d.col, d.message:gsub("\n.*", ""))) end
  vim.cmd("undo")
  vim.wait(3000, function() local ds = vim.diagnostic.get(0); return #ds > 0 and ds[1].code == "W104" end, 50)
  for _, d in ipairs(vim.diagnostic.get(0)) do log(string.format("after fix: diag %s %d:%d", d.code, d.lnum, d.col)) end
  local client = vim.lsp.get_active_clients()[1]
  local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = 3, character = 26 } }
  local r = vim.lsp.buf_request_sync(0, "textDocument/definition", params, 3000)
  for _, res in pairs(r or {}) do for _, loc in ipairs(res.result or {}) do log("definition " .. loc.uri:gsub(".*/", "") .. " line " .. loc.range.start.line) end end
  r = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 3000)
  for _, res in pairs(r or {}) do log("hover " .. (res.result and res.result.contents.value:gsub("\n\n", " | ") or "nil")) end
  params.position = { line = 6, character = 14 }
  r = vim.lsp.buf_request_sync(0, "textDocument/completion", params, 3000)
  for _, res in pairs(r or {}) do local ls = {} for _, i in ipairs(res.result or {}) do table.insert(ls, i.label) end log("completion " .. table.concat(ls, ",")) end
  vim.fn.writefile(out, "/tmp/trellis-nvim-smoke.txt")
  vim.cmd("qa!")
end
