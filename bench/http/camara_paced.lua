-- The CAMARA check, each connection pausing SN_DELAY_MS between requests:
-- wrk has no rate control, so the offered rate is set by the connection count.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SN_KEY")
wrk.body = '{"phoneNumber":"' .. os.getenv("SN_NUMBER") .. '","specifiedDate":"2020-01-01"}'
local pause = tonumber(os.getenv("SN_DELAY_MS") or "1")
function delay()
  return pause
end
