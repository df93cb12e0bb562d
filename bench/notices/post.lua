-- wrk script of bench/notices.sh: POST a body the size of a notice, with the
-- headers a delivery carries, so the baseline does what a delivery does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Secondnum-Notice-Id"] = "-"
wrk.headers["Secondnum-Signature"] = "t=1795000000,v1=" .. string.rep("0", 64)
wrk.body = '{"id":"1","kind":"number_cancelled","critical":false,"number":"+8613900000001",' ..
  '"event":"cancel","event_at":"2026-01-01T00:00:00Z","tenure":1,"source":"binding",' ..
  '"account_hash":"' .. string.rep("a", 64) .. '","created_at":"2026-11-23T01:00:00Z",' ..
  '"deadline":"2026-11-28T01:00:00Z","state":"open","outcome":null,"note":null}'
