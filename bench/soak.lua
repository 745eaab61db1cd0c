-- POSTs $SOAK_BODY (with $SOAK_AUTH as Authorization, when set) and counts answers that
-- are not HTTP 200 or whose body is not exactly $SOAK_EXPECT (see soak.sh).
local function read(name)
    local file = assert(io.open(os.getenv(name), "rb"))
    local text = file:read("*a")
    file:close()
    return text
end

wrk.method = "POST"
wrk.body = read("SOAK_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("SOAK_AUTH")
if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
end
local expected = read("SOAK_EXPECT")

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    non_200 = 0
    wrong = 0
end

function response(status, headers, body)
    if status ~= 200 then
        non_200 = non_200 + 1
    elseif body ~= expected then
        wrong = wrong + 1
    end
end

function done(summary, latency, requests)
    local bad_status, bad_body = 0, 0
    for _, thread in ipairs(threads) do
        bad_status = bad_status + thread:get("non_200")
        bad_body = bad_body + thread:get("wrong")
    end
    io.write(string.format("requests=%d non_200=%d wrong=%d errors=%d p50_ms=%.2f p99_ms=%.2f\n",
        summary.requests, bad_status, bad_body,
        summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout + summary.errors.status,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
