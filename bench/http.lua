-- POSTs the request body read from $TELEPACT_BENCH_BODY on every request (see http.sh).
local file = assert(io.open(os.getenv("TELEPACT_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
wrk.headers["Content-Type"] = "application/json"
file:close()
