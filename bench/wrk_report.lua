-- wrk script for bench/api.py: unique POST bodies, non-2xx counting and a JSON summary.
--
-- Usage: wrk ... -s bench/wrk_report.lua <url> -- [body template]
-- With a body template the requests are POSTs whose "{seq}" becomes a per-request unique
-- "<thread>-<n>"; without one they are the GETs wrk was asked for. The last line printed is
-- "WRK_JSON {...}": requests, duration, latency percentiles (microseconds) and errors.
-- The Authorization header, if any, comes from the BENCH_AUTHORIZATION environment variable.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  template = args[1]
  seq = 0
  non2xx = 0
  sample = ""
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization ~= nil and authorization ~= "" then
    wrk.headers["Authorization"] = authorization
  end
  if template ~= nil and template ~= "" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  else
    template = nil
    fixed = wrk.format()
  end
end

function request()
  if template == nil then
    return fixed
  end
  seq = seq + 1
  local unique = id .. "-" .. seq
  local body = template:gsub("{seq}", unique)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if sample == "" then
      sample = "HTTP " .. status .. ": " .. string.sub(body or "", 1, 300)
    end
  end
end

local function json_string(text)
  local escaped = text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
  local non2xx_total = 0
  local samples = {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
    local text = thread:get("sample")
    if text ~= nil and text ~= "" then
      table.insert(samples, json_string(text))
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"samples": [%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non2xx_total, e.connect, e.read, e.write, e.timeout, table.concat(samples, ", ")
  ))
end
