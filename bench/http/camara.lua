-- bench/http/camara.lua - POST one CAMARA Number Recycling check per request.
--   SN_KEY       an app key (Authorization: Bearer)
--   SN_NUMBER    a number of the store, E.164
--   SN_DELAY_MS  optional: each connection waits this long between requests
--                (wrk has no rate control: with a pause, the offered rate is
--                set by the connection count)
-- nginx, the baseline, gets the same requests and ignores the body.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("SN_KEY"), "SN_KEY unset")
wrk.body = '{"phoneNumber":"' .. assert(os.getenv("SN_NUMBER"), "SN_NUMBER unset")
           .. '","specifiedDate":"2020-01-01"}'

local pause = tonumber(os.getenv("SN_DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end
