-- GET the URL, like the shared get.lua, without handing every body to Lua.
--
-- The shared report.lua defines response(status, headers, body) to count statuses; wrk
-- then copies each whole body into a Lua string. For a 200 KB page that copying costs the
-- single wrk thread about a third of its throughput (measured: 1,622 vs 2,359 req/s on
-- the same server), so the client, not the server, is measured. This script leaves
-- response() undefined and takes the statuses from wrk's own counter (status >= 400 is
-- an error), printing the same BENCH_JSON line. run.py uses it for the 200-comment reads
-- of both servers, Isso included, so both are measured by the same client.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local shared = os.getenv("BENCH_SHARED_WRK") or (here .. "../../../shared/bench/wrk/")
dofile(shared .. "report.lua")

response = nil

function done(summary, latency, requests)
  local e = summary.errors
  local dur_s = summary.duration / 1e6
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"rps":%.2f', summary.requests / dur_s),
    string.format('"bytes":%d', summary.bytes),
    string.format('"bytes_per_response":%.1f', summary.requests > 0 and summary.bytes / summary.requests or 0),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.status, e.timeout),
    -- wrk counts answers with status >= 400; everything else here is a 2xx (no redirects
    -- on these paths: the body size in the report would show one)
    string.format('"status":{"2xx":%d,"4xx-or-5xx":%d}', summary.requests - e.status, e.status),
    string.format('"sent":%d', summary.requests),
    string.format('"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}',
      latency.mean, latency.stdev, latency.min, latency:percentile(50), latency:percentile(75),
      latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max),
    '"first_non_2xx":""',
  }
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
