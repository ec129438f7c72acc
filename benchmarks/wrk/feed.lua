-- GET the mixed feed for a random user.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
request = function()
  return wrk.format("GET", "/v1/users/" .. random_user() .. "/feed?k=20")
end
