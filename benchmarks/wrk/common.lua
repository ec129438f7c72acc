-- Shared by the read scripts: random users among USERS ("u0" … "u<USERS-1>", the generator's ids),
-- an optional pause per connection (PAUSE_MS) to offer a steady rate instead of saturating,
-- and a one-line JSON summary at the end that benchmarks/serve_wrk.sh parses.
local users = tonumber(os.getenv("USERS") or "1000000")
local pause = tonumber(os.getenv("PAUSE_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
end

function random_user()
  return "u" .. math.random(0, users - 1)
end

-- ARRIVALS: how the pause is drawn. fixed (default): every pause is PAUSE_MS, so clients answered
-- together come back together; exponential: mean PAUSE_MS, memoryless like independent clients'
-- think times (still a closed loop: a client waits for its answer); uniform: 0 to 2 x PAUSE_MS
-- (BENCHMARKS.md compares the three). wrk only prints a script's errors and goes on without it,
-- so a bad value exits here instead.
local arrivals = os.getenv("ARRIVALS") or "fixed"
if arrivals ~= "fixed" and arrivals ~= "exponential" and arrivals ~= "uniform" then
  io.stderr:write("ARRIVALS must be fixed, exponential or uniform (got " .. arrivals .. ")\n")
  os.exit(2)
end
if pause > 0 then
  if arrivals == "fixed" then
    function delay() return pause end
  elseif arrivals == "exponential" then
    function delay() return math.floor(-pause * math.log(1 - math.random()) + 0.5) end
  else
    function delay() return math.random(0, 2 * pause) end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
