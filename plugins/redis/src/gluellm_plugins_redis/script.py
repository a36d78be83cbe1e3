"""The Lua script that decides permits in Redis: the sliding window with a burst, atomically.

Each limit is one sorted set: a member per admission, scored by its time on the Redis
server's clock in microseconds, so clients need not agree on the time. The script
first writes the entries the caller replays (admissions Redis may not know: taken
locally during an outage, or lost by a Redis restart), then trims entries older than
the period and admits the request when both the period and the burst window have room,
with the same rule as `gluellm_plugins_aiolimiter.window`.

KEYS[1]: the limit's sorted set.

ARGV: requests, burst, period (µs), burst period (µs), the new admission's member,
the number n of replayed entries, then n triples ``member, value, kind``: kind ``a``
means value is the entry's age in µs when the call was made (an admission decided
locally: it is placed at ``now - age``), kind ``t`` means value is the server time in
µs that Redis gave it. Replays use ``ZADD NX``: an entry Redis still has is not added
twice.

Returns ``{wait, now}``: wait is 0 when the request was admitted at server time now,
else the microseconds until a permit may free up.
"""

from __future__ import annotations

SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local key = KEYS[1]
local requests = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local burst_period = tonumber(ARGV[4])
local horizon = now - period
for i = 7, 6 + 3 * tonumber(ARGV[6]), 3 do
    local score = tonumber(ARGV[i + 1])
    if ARGV[i + 2] == 'a' then
        score = now - score
    end
    if score > horizon then
        redis.call('ZADD', key, 'NX', score, ARGV[i])
    end
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', horizon)
local wait = 0
local nth = redis.call('ZRANGE', key, -burst, -burst, 'WITHSCORES')
if nth[2] then
    wait = tonumber(nth[2]) + burst_period - now
end
nth = redis.call('ZRANGE', key, -requests, -requests, 'WITHSCORES')
if nth[2] then
    wait = math.max(wait, tonumber(nth[2]) + period - now)
end
if wait <= 0 then
    redis.call('ZADD', key, now, ARGV[5])
    redis.call('PEXPIRE', key, math.ceil(period / 1000) + 1000)
    return {0, now}
end
return {math.ceil(wait), now}
"""
