-- Start the next batch when one finishes.  The next batch is C.next[name],
-- or, for names ending in a number ("wave1"), the same name with the next
-- number ("wave2").
--
--   ferry hook add next-batch next-batch.lua --events batch-finished
local C = CONFIG or {
  next = {},                -- e.g. ["pilot"] = "wave1"
}

local function next_of(name)
  if C.next[name] then return C.next[name] end
  local stem, n = name:match("^(.-)(%d+)$")
  if stem then return stem .. tostring(tonumber(n) + 1) end
  return nil
end

function on_event(event)
  local name = event.source:match("^/1%.0/batches/([^/]+)$")
  if not name then return end
  local nxt = next_of(name)
  if not nxt then
    log_info("Batch " .. name .. " finished; no next batch")
    return
  end
  log_info("Batch " .. name .. " finished: starting " .. nxt)
  ferry.batch_start(nxt)
end
