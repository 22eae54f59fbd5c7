-- wrk script: sends METHOD (default POST) with the JSON body in $BODY_FILE (none when empty) and,
-- when $TOKEN is set, "Authorization: Bearer $TOKEN"; prints at the end one line
--   RESULT {"requests":..,"duration_s":..,"rps":..,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..,"non2xx":..,"errors":..}
-- (bench/peer/bench.sh runs it: the same script for custgraph, PostGraphile and the floor.)
wrk.method = os.getenv("METHOD") or "POST"
local bf = os.getenv("BODY_FILE")
if bf and bf ~= "" then
  local f = assert(io.open(bf, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
local tok = os.getenv("TOKEN")
if tok and tok ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. tok
end
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
  local s = summary
  local errs = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
  io.write(string.format(
    'RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"errors":%d}\n',
    s.requests, s.duration / 1e6, s.requests / (s.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, s.errors.status, errs))
end
