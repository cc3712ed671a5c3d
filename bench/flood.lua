-- wrk script for bench/auth_flood.sh: every request presents a new random token
-- (FLOOD_PREFIX followed by FLOOD_LEN random alphanumerics) and the answers are counted by status.
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local prefix = os.getenv("FLOOD_PREFIX") or "x"
local len = tonumber(os.getenv("FLOOD_LEN") or "32")
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + #threads)
    statuses = {}
end

function request()
    local t = {}
    for i = 1, len do
        local r = math.random(1, #chars)
        t[i] = chars:sub(r, r)
    end
    return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. prefix .. table.concat(t) })
end

function response(status)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        local s = thread:get("statuses")
        for code, n in pairs(s) do
            total[code] = (total[code] or 0) + n
        end
    end
    local parts = {}
    for code, n in pairs(total) do
        table.insert(parts, code .. ":" .. n)
    end
    table.sort(parts)
    io.write("statuses " .. table.concat(parts, " ") .. "\n")
end
