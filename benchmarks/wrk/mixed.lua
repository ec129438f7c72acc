-- The soak's read mix for a random user: who to follow 40%, mixed feed 30%, posts 20%, the user's summary 10%.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
request = function()
  local u = random_user()
  local r = math.random(1, 10)
  if r <= 4 then return wrk.format("GET", "/v1/users/" .. u .. "/follow-recommendations?k=20") end
  if r <= 7 then return wrk.format("GET", "/v1/users/" .. u .. "/feed?k=20") end
  if r <= 9 then return wrk.format("GET", "/v1/users/" .. u .. "/posts?k=20") end
  return wrk.format("GET", "/v1/users/" .. u)
end
