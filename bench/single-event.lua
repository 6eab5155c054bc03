-- wrk script for the ingest benchmarks: one event per request, the next line of QINGJIAN_WRK_BODIES (bench/wrk.ts
-- writes it, each event with an id of its own). A run longer than the file starts it again: the repeats are duplicates.
local bodies = {}
for line in io.lines(os.getenv("QINGJIAN_WRK_BODIES")) do bodies[#bodies + 1] = line end
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The benchmark's admin token (bench/token.ts puts it in the environment wrk inherits).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("QINGJIAN_TOKEN")
request = function()
  counter = counter + 1
  return wrk.format(nil, "/v1/events", nil, bodies[(counter - 1) % #bodies + 1])
end
