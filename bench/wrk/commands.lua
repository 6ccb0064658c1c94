-- POST one AcceptReadings per request (a new sensor-day each, so each is accepted: one event, one
-- journal entry, receipt, hash chain) with a fresh Idempotency-Key, or with BATCH > 0 a batch of
-- BATCH such commands to the batch route. Arguments after `--`: run tag, token, comma-separated
-- cooperatives, sensors per cooperative, batch size (0: single commands), first day (days after
-- 2020-01-01: each scenario of a run writes days of its own), wrk's thread count. Each thread
-- writes cooperatives of its own (a cooperative takes one writer at a time); a 503 write_contention
-- (two server processes writing one cooperative) is counted apart, as a client would retry it.
dofile(os.getenv("WRK_SCRIPTS") .. "/summary.lua")

local run, token, coops, sensors, batch, first_day
local n = 0
acked = 0
contended = 0

function init(args)
  run, token, sensors, batch, first_day = args[1], args[2], tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  local threads = tonumber(args[7])
  coops = {}
  local i = 0
  for c in string.gmatch(args[3], "[^,]+") do
    if i % threads == tid % threads then table.insert(coops, c) end
    i = i + 1
  end
  assert(#coops > 0, "fewer cooperatives than wrk threads")
end

-- Thread `tid` writes sensors of its own lane on every cooperative: no two threads write one sensor-day.
local function reading(m)
  local lanes = 4  -- at most 4 wrk threads
  local width = math.floor(sensors / lanes)
  local sensor = tid * width + m % width
  local day = first_day + math.floor(m / width)
  local t = os.time({year = 2020, month = 1, day = 1, hour = 12}) + day * 86400
  local iso = os.date("!%Y-%m-%d", t)
  return string.format('"sensor_id": "s%d", "period": "%s", "readings": 96, "effective_date": "%s"', sensor, iso, iso)
end

function request()
  n = n + 1
  local coop = coops[n % #coops + 1]
  local m = math.floor(n / #coops)
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if batch == 0 then
    headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, n)
    return wrk.format("POST", "/v1/coops/" .. coop .. "/commands/AcceptReadings", headers, "{" .. reading(m) .. "}")
  end
  local items = {}
  for k = 0, batch - 1 do
    items[#items + 1] = string.format('{"command": "AcceptReadings", "idempotency_key": "%s-%d-%d-%d", "fields": {%s}}',
      run, tid, n, k, reading(m * batch + k))
  end
  return wrk.format("POST", "/v1/coops/" .. coop .. "/commands", headers, '{"commands": [' .. table.concat(items, ",") .. "]}")
end

local shown = false

function response(status, headers, body)
  if status == 503 and string.find(body, "write_contention", 1, true) then
    contended = contended + 1
    return
  end
  if status >= 300 and not shown then  -- the first refusal of each thread, for bench/http_load.py to show
    io.stderr:write(string.format("HTTP %d: %s\n", status, string.sub(body, 1, 500)))
    shown = true
  end
  if status >= 200 and status < 300 then
    if batch > 0 and not string.find(body, '"refused":0', 1, true) then
      error("a batch had refusals: " .. string.sub(body, 1, 300))
    end
    acked = acked + 1
  end
end
