-- POST batches of 10 follow events between random users (new edges mostly), with the write token.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
local token = os.getenv("TOKEN")
request = function()
  local events = {}
  for i = 1, 10 do
    events[i] = string.format('{"type":"follow","follower":"%s","followee":"%s"}', random_user(), random_user())
  end
  local body = '{"mode":"per_item","events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/v1/events",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
