-- Placement by OS family: Windows and Linux guests go to their own Incus
-- project and storage pool, with the profiles they need.  Guests whose OS
-- ferry could not determine are blocked until someone sets an override
-- (ferry instance override set UUID os_type=linux).
--
-- Set CONFIG before this text (or edit the defaults) to change the map.
local C = CONFIG or {
  target = nil,                 -- nil: the batch's default target
  families = {
    windows = { project = "windows", pool = "default", profiles = { "default" } },
    linux   = { project = "default", pool = "default", profiles = { "default" } },
  },
}

-- "windows" or "linux" from what the sync (or an override) says.
local function family(instance)
  local t = (instance.os_type or ""):lower()
  if t ~= "" then return t end
  local os = (instance.os or ""):lower()
  if os:find("windows", 1, true) then return "windows" end
  if os ~= "" then return "linux" end
  return nil
end

function placement(instance, batch)
  local f = family(instance)
  if not f then
    fail("OS of '" .. instance.name .. "' is unknown: set an os_type override")
  end
  local rule = C.families[f]
  if not rule then
    fail("No placement rule for OS family '" .. f .. "' of '" .. instance.name .. "'")
  end
  if C.target then set_target(C.target) end
  set_project(rule.project)
  set_pool("*", rule.pool)
  if rule.profiles then set_profiles(rule.profiles) end
  set_config("user.ferry.os_family", f)
  log_info(instance.name .. " is " .. f .. ": project " .. rule.project .. ", pool " .. rule.pool)
end
