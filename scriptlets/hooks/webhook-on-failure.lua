-- Tell a chat or incident system about failures: POST a JSON summary of
-- each failure event to C.url.
--
--   ferry hook add on-failure webhook-on-failure.lua \
--       --events queue-failed,batch-error,warning-created
local C = CONFIG or {
  url = "https://hooks.example.org/ferry",
}

function on_event(event)
  local answer = ferry.webhook(C.url, {
    text = "ferry: " .. event.action .. " " .. event.source,
    action = event.action,
    source = event.source,
    target = event.target,
    project = event.project,
    timestamp = event.timestamp,
  })
  if answer.status >= 300 then
    log_warn("Webhook answered " .. answer.status)
  end
end
