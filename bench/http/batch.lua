-- bench/http/batch.lua - POST /v1/check/batch, the same body every time.
--   SN_KEY         an app key (Authorization: Bearer)
--   SN_BATCH_FILE  the request body: {"items":[...]} as written by bench/http.sh
--                  (1000 numbers of the store)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. assert(os.getenv("SN_KEY"), "SN_KEY unset")
local f = assert(io.open(assert(os.getenv("SN_BATCH_FILE"), "SN_BATCH_FILE unset"), "rb"))
wrk.body = f:read("*a")
f:close()
