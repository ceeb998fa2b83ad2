-- Spread instances across the online members of a cluster target: each
-- instance goes to the member its UUID hashes to, so that a batch spreads
-- evenly and a dry run and the real run agree.  Members that are not
-- Online are left out; with none online the instance is blocked.
local C = CONFIG or {
  target = nil,             -- nil: the batch's default target
}

-- A small string hash (FNV-1a, 32 bits).
local function hash(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
  end
  return h
end

function placement(instance, batch)
  local target = C.target or (batch.defaults and batch.defaults.placement and batch.defaults.placement.target)
  if not target then fail("No target to spread '" .. instance.name .. "' over") end
  local t = targets()[target]
  if not t then fail("Target '" .. target .. "' is unknown") end

  local online = {}
  for _, m in ipairs(t.cluster_members or {}) do
    if m.status == "Online" then online[#online + 1] = m.name end
  end
  if #online == 0 then
    fail("Target '" .. target .. "' has no online cluster member for '" .. instance.name .. "'")
  end
  table.sort(online)
  local member = online[hash(instance.uuid or instance.name) % #online + 1]
  set_target(target)
  set_member(member)
  log_info(instance.name .. " -> " .. member)
end
