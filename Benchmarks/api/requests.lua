-- wrk script for `make bench-api`: authenticated searches or chat questions over a fixed list of queries.
--   wrk -s Benchmarks/api/requests.lua ... -- ENDPOINT TOKEN QUERIES_FILE [PAUSE_MS]
-- ENDPOINT is "search" (GET /api/knowledge?q=…&k=10) or "chat" (POST /api/chat/message). Each connection walks the
-- queries from its own offset. With PAUSE_MS each connection waits that long after every response before its next
-- request, which paces the load (64 connections pausing 60 ms send about 1,000 requests/s). done() prints one JSON
-- line with the figures the report needs.

local endpoint, token, queries = "search", "", {}
local counter = 0

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function jsonstring(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" else return string.format("\\u%04x", string.byte(c)) end
  end) .. '"'
end

function init(args)
  endpoint, token = args[1] or "search", args[2] or ""
  for line in io.lines(args[3]) do
    local text = line:match("\t(.*)$") or line
    if #text > 0 then queries[#queries + 1] = text end
  end
  counter = math.random(#queries)
  local pause = tonumber(args[4] or "0") or 0
  if pause > 0 then
    -- wrk looks for delay() after init, so it is only defined when pacing.
    function delay() return pause end
  end
end

function request()
  counter = counter % #queries + 1
  local headers = { ["Authorization"] = "Bearer " .. token }
  if endpoint == "chat" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/chat/message", headers, '{"message": ' .. jsonstring(queries[counter]) .. '}')
  end
  return wrk.format("GET", "/api/knowledge?k=10&q=" .. urlencode(queries[counter]), headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "requests_per_second": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, summary.errors.status))
end
