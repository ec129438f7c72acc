-- The soak's writes: batches of 10 events between random users: 5 follows, 3 likes of random posts
-- (the generator's "p<n>" ids below POSTS), 1 block, 1 dismissed suggestion.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
local token = os.getenv("TOKEN")
local posts = tonumber(os.getenv("POSTS") or "1000000")
request = function()
  local e = {}
  for i = 1, 5 do
    e[#e + 1] = string.format('{"type":"follow","follower":"%s","followee":"%s"}', random_user(), random_user())
  end
  for i = 1, 3 do
    e[#e + 1] = string.format('{"type":"interaction","user":"%s","post":"p%d","kind":"like"}', random_user(), math.random(0, posts - 1))
  end
  e[#e + 1] = string.format('{"type":"block","user":"%s","blocked":"%s"}', random_user(), random_user())
  e[#e + 1] = string.format('{"type":"dismiss","user":"%s","candidate":"%s"}', random_user(), random_user())
  local body = '{"mode":"per_item","events":[' .. table.concat(e, ",") .. ']}'
  return wrk.format("POST", "/v1/events",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end
