-- POST /v1/check/batch with 1000 real numbers read from SN_NUMBERS_FILE.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SN_KEY")
local items = {}
for line in io.lines(os.getenv("SN_NUMBERS_FILE")) do
  items[#items + 1] = '{"number":"' .. line .. '","date":"2020-01-01"}'
  if #items == 1000 then break end
end
wrk.body = '{"items":[' .. table.concat(items, ",") .. ']}'
