-- Placement of each NIC by the VLAN of its source portgroup: one VLAN
-- becomes a NIC on C.bridge with that VLAN; a trunk ("300-399,500") becomes
-- a NIC with those VLANs tagged (expanded, at most C.max_tagged of them);
-- no VLAN becomes an untagged NIC on C.bridge.  C.networks maps single
-- VLANs to their own Incus networks instead.
local C = CONFIG or {
  bridge = "br0",
  nictype = "managed",
  networks = {},            -- e.g. ["100"] = "lan-100": VLAN 100 -> the managed network lan-100
  max_tagged = 64,
}

local function expand(spec)
  local ids = {}
  for part in spec:gmatch("[^,]+") do
    local a, b = part:match("^%s*(%d+)%s*%-%s*(%d+)%s*$")
    if a then
      for id = tonumber(a), tonumber(b) do
        ids[#ids + 1] = tostring(id)
        if #ids > C.max_tagged then return nil end
      end
    else
      ids[#ids + 1] = part:match("^%s*(%d+)%s*$") or error("bad VLAN spec '" .. spec .. "'")
    end
  end
  return table.concat(ids, ",")
end

function placement(instance, batch)
  for _, nic in ipairs(instance.nics or {}) do
    local vlan = nic.network_vlan or ""
    local hw = nic.hardware_address
    if vlan == "" then
      set_network(hw, C.bridge, C.nictype)
    elseif C.networks[vlan] then
      set_network(hw, C.networks[vlan], "managed")
    elseif vlan:find("[-,]") then
      local tagged = expand(vlan)
      if not tagged then
        fail("NIC " .. hw .. " of '" .. instance.name .. "' trunks more than " .. C.max_tagged ..
             " VLANs (" .. vlan .. "): map its portgroup by hand")
      end
      set_network(hw, C.bridge, C.nictype, tagged)
    else
      set_network(hw, C.bridge, C.nictype, vlan)
    end
  end
end
