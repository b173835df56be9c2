-- wrk script of the pages benchmark (bench/pages.py): every response must be a 200
-- that holds one of the page's markers (its <body data-page="…">, or a string of
-- its own), else it is counted as an error: a redirect to the sign-in page or to
-- the statement gate, a 500, a page of another kind.
--
-- Arguments (after --): the markers, then optionally "paths=" followed by the paths
-- to request in turn (the soak's mix), each "|"-separated.
-- At the end it writes one line: "WRK_JSON {...}" with the counts and latencies.

local threads = {}

local function split(text)
  local parts = {}
  for part in string.gmatch(text, "[^|]+") do
    table.insert(parts, part)
  end
  return parts
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  markers = split(args[1] or "")
  paths = nil
  if args[2] and string.sub(args[2], 1, 6) == "paths=" then
    paths = split(string.sub(args[2], 7))
  end
  next_path = 0
  bad_status = 0
  no_marker = 0
end

function request()
  if paths then
    next_path = next_path % #paths + 1
    return wrk.format("GET", paths[next_path])
  end
  return wrk.format()
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    return
  end
  for _, marker in ipairs(markers) do
    if string.find(body, marker, 1, true) then
      return
    end
  end
  no_marker = no_marker + 1
end

function done(summary, latency, requests)
  local status, marker = 0, 0
  for _, thread in ipairs(threads) do
    status = status + thread:get("bad_status")
    marker = marker + thread:get("no_marker")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"bad_status": %d, "no_marker": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, status, marker))
end
