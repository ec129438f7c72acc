-- GET who-to-follow for a random user.
dofile(os.getenv("WRK_DIR") .. "/common.lua")
request = function()
  return wrk.format("GET", "/v1/users/" .. random_user() .. "/follow-recommendations?k=20")
end
