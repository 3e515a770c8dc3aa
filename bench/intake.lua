-- wrk script of the intake scenarios (bench/scenarios.py): POST /api/reports with a unique
-- Idempotency-Key per request, positions in the centre box, and print the summary and every
-- acknowledged (201) report code, so the harness can look each one up afterwards.
-- Usage: wrk ... -s bench/intake.lua URL -- KEY_PREFIX DELAY_MS CATEGORY[,CATEGORY...]
-- DELAY_MS > 0 paces each connection (a fixed rate: connections * 1000 / DELAY_MS per second at most).

local threads = {}
local prefix, delay_ms, categories = "bench-", 0, {}
local counter = 0
created, failed, codes, statuses = 0, 0, {}, {}  -- globals: done() reads them with thread:get
local minx, miny, maxx, maxy = 107.5725, 16.4525, 107.5875, 16.4675

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_index", #threads)
end

function init(args)
  prefix = args[1] .. (thread_index or 1) .. "-"
  delay_ms = tonumber(args[2]) or 0
  for code in string.gmatch(args[3] or "garbage", "[^,]+") do
    categories[#categories + 1] = code
  end
  math.randomseed(20251 + (thread_index or 1))
end

function delay()
  return delay_ms
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"category": "%s", "description": "Benchmark report %d: a broken street light by the river", '
      .. '"lon": %.7f, "lat": %.7f, "channel": "web"}',
    categories[math.random(#categories)], counter, minx + math.random() * (maxx - minx),
    miny + math.random() * (maxy - miny))
  local headers = {["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. counter}
  return wrk.format("POST", "/api/reports", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
    codes[#codes + 1] = string.match(body, '"code":"(HUE%-[0-9A-Z]+)"') or "?"
  else
    failed = failed + 1
    statuses[#statuses + 1] = status
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local acknowledged, refused = 0, 0
  for _, thread in ipairs(threads) do
    acknowledged = acknowledged + thread:get("created")
    refused = refused + thread:get("failed")
    io.write("WRK_CODES " .. table.concat(thread:get("codes"), " ") .. "\n")
    io.write("WRK_REFUSED " .. table.concat(thread:get("statuses"), " ") .. "\n")
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f, "created": %d, "refused": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    acknowledged, refused))
end
