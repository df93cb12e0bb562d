-- bench/http/events.lua - POST /v1/events, 1000 new activations per request.
--   SN_CARRIER_KEY     a carrier key whose carrier owns SN_EVENTS_PREFIX
--   SN_EVENTS_PREFIX   a range 'secondnum gen' never uses (default +86170)
--   SN_EVENTS_BASE     first counter value (numbers are PREFIX + 8 digits)
--   SN_EVENTS_NEXT     optional file: done() writes there the first counter
--                      value no thread has used, for the next run on the store
-- Every request carries numbers no earlier request had, so no event is a
-- duplicate. Each wrk thread counts on its own, 10^7 apart (bench/http.sh
-- runs one).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("SN_CARRIER_KEY"), "SN_CARRIER_KEY unset")

local PER_REQUEST, THREAD_SPAN = 1000, 10000000
local prefix = os.getenv("SN_EVENTS_PREFIX") or "+86170"
local base = tonumber(os.getenv("SN_EVENTS_BASE") or "0")

-- main state: give each thread an id, keep the threads for done()
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- thread state
next_number = nil
function init(args)
  next_number = base + id * THREAD_SPAN
end

function request()
  local events = {}
  for i = 1, PER_REQUEST do
    events[i] = string.format('{"number":"%s%08d","event":"activate","at":"2024-01-01T00:00:00+08:00"}',
                              prefix, next_number)
    next_number = next_number + 1
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end

function done(summary, latency, requests)
  local out = os.getenv("SN_EVENTS_NEXT")
  if not out then return end
  local next_free = base
  for _, t in ipairs(threads) do
    next_free = math.max(next_free, t:get("next_number"))
  end
  local f = assert(io.open(out, "w"))
  f:write(string.format("%d\n", next_free))
  f:close()
end
