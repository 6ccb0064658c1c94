-- Shared by the benchmark's wrk scripts: one JSON line at the end, read by bench/http.py.
-- Latencies in microseconds; `acked` counts 2xx answers and `contended` 503 write_contention answers
-- (the threads' counters, when the script keeps them).
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local acked, contended = 0, 0
  for _, t in ipairs(threads) do
    acked = acked + (t:get("acked") or 0)
    contended = contended + (t:get("contended") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "acked": %d, "contended": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), acked, contended))
end
