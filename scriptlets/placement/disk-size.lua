-- Placement of each disk by its size: disks of at least C.large_bytes go
-- to C.large_pool, the others to C.small_pool.  The instance's default
-- pool (for anything not listed) is the pool of its first disk.
local C = CONFIG or {
  large_bytes = 1024 * 1024 * 1024 * 1024,   -- 1 TiB
  large_pool = "large",
  small_pool = "default",
}

local function pool_for(disk)
  if (disk.capacity or 0) >= C.large_bytes then return C.large_pool end
  return C.small_pool
end

function placement(instance, batch)
  local first = nil
  for _, disk in ipairs(instance.disks or {}) do
    if disk.supported ~= false then
      local pool = pool_for(disk)
      first = first or pool
      set_pool(disk.name, pool)
    end
  end
  set_pool("*", first or C.small_pool)
end
