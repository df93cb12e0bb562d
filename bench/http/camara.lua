-- POST a CAMARA check with a valid app key (SN_KEY) for one real number (SN_NUMBER).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SN_KEY")
wrk.body = '{"phoneNumber":"' .. os.getenv("SN_NUMBER") .. '","specifiedDate":"2020-01-01"}'
