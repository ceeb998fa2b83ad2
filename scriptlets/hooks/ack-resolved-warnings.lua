-- Acknowledge the sync warnings an override resolved: when an instance's
-- overrides change and now give what a warning said was missing (its OS),
-- that warning is acknowledged.
--
--   ferry hook add ack-resolved ack-resolved-warnings.lua --events instance-override-updated
local RESOLVED_BY = {
  ["Could not determine instance OS"] = function(instance)
    local o = instance.overrides or {}
    return (o.os or "") ~= "" or (o.os_type or "") ~= ""
  end,
}

function on_event(event)
  local uuid = event.source:match("^/1%.0/instances/([^/]+)")
  if not uuid then return end
  local instance = ferry.instance(uuid)
  for _, w in ipairs(ferry.warnings()) do
    local resolved = RESOLVED_BY[w.type]
    if w.status == "new" and w.scope and w.scope.entity == uuid and resolved and resolved(instance) then
      log_info("Override of " .. instance.name .. " resolves: " .. w.type)
      ferry.warning_acknowledge(w.uuid)
    end
  end
end
