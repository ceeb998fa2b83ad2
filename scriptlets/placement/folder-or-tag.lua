-- Placement by vCenter folder, tag or custom attribute to an Incus project.
-- The first rule that matches wins; an instance no rule matches goes to
-- C.default_project (or is blocked when that is nil).
--
-- Rules match on:
--   folder = "/dc/vm/Linux/web"  the instance's inventory folder or a parent of it
--   tag = "team", value = "web"  a vSphere tag (config "tag.team" lists them, comma-separated)
--   attribute = "owner", value = "team-web"   a custom attribute (config "custom.owner")
local C = CONFIG or {
  rules = {
    { tag = "team", value = "dba", project = "databases" },
    { attribute = "owner", value = "team-data", project = "databases" },
    { folder = "/dc-east/vm/Windows", project = "windows" },
  },
  default_project = "default",
}

local function folder_of(location)
  return (location or ""):match("^(.*)/[^/]*$") or ""
end

local function has_tag(instance, category, value)
  local tags = (instance.config or {})["tag." .. category]
  if not tags then return false end
  for t in tags:gmatch("[^,]+") do
    if t:match("^%s*(.-)%s*$") == value then return true end
  end
  return false
end

local function matches(rule, instance)
  if rule.folder then
    local f = folder_of(instance.location)
    return f == rule.folder or f:sub(1, #rule.folder + 1) == rule.folder .. "/"
  end
  if rule.tag then return has_tag(instance, rule.tag, rule.value) end
  if rule.attribute then
    return (instance.config or {})["custom." .. rule.attribute] == rule.value
  end
  return false
end

function placement(instance, batch)
  for i, rule in ipairs(C.rules) do
    if matches(rule, instance) then
      log_info(instance.name .. ": rule " .. i .. " -> project " .. rule.project)
      set_project(rule.project)
      return
    end
  end
  if not C.default_project then
    fail("No folder, tag or attribute rule places '" .. instance.name .. "'")
  end
  set_project(C.default_project)
end
