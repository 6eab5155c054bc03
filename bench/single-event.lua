-- wrk script for the ingest benchmark: one check-in per request, each with a fresh id.
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The benchmark's admin token (bench/token.ts puts it in the environment wrk inherits).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QINGJIAN_TOKEN")
request = function()
  counter = counter + 1
  local body = string.format('{"id":"wrk-%d-%d","type":"checkin","occurred_at":"2026-11-20T09:30:00+08:00","region":"371402","source":"wrk","enterprise_id":"91350100M000100Y43","agency_id":"371400-SCJG","officer_ids":["371400-SCJG-001"],"action":"enter","method":"qr"}', math.random(1, 1000000000), counter)
  return wrk.format(nil, "/v1/events", nil, body)
end
