-- The next turn of the fleet's schedule of one account's limit group (GCRA: `tat` is when the
-- next turn is free), and the fleet's learned rate.
-- KEYS: 1 the pace hash, 2 the members (sorted set), 3 the account's breaker
-- ARGV: 1 start rate, 2 proposed rate, 3 the caller's epoch, 4 longest wait in µs (-1: none),
--       5 the caller's id, 6 TTL in ms, and where to start when the fleet has no pace yet:
--       7 an epoch, 8 the rate the account accepted at the last cut (0: none), 9 µs since it
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'epoch', 'wmax', 'cut', 'hold')
local tat = tonumber(h[1]) or 0
local rate = tonumber(h[2])
local epoch = h[3]
local wmax = tonumber(h[4]) or 0
local cut = tonumber(h[5]) or now
local hold = tonumber(h[6]) or 0
local fresh = not rate or not epoch
if fresh then
  rate = tonumber(ARGV[1])
  epoch = ARGV[7]
  wmax = tonumber(ARGV[8])
  cut = now - tonumber(ARGV[9])
elseif ARGV[3] == epoch then
  local proposed = tonumber(ARGV[2])
  if proposed > rate then rate = proposed end
end
local slot = math.max(tat, now, hold)
local wait = slot - now
local max_wait = tonumber(ARGV[4])
local took = 1
if max_wait >= 0 and wait > max_wait then
  took = 0
else
  tat = slot + 1000000 / rate
end
-- Only the schedule and the rate change here; the rest is written when the pace starts.
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat), 'rate', string.format('%.17g', rate))
if fresh then
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'wmax', string.format('%.17g', wmax),
    'cut', string.format('%.0f', cut))
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], string.format('%.0f', now), ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now - 10000000))
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local members = redis.call('ZCARD', KEYS[2])
local trip = redis.call('GET', KEYS[3])
local trip_ttl = -1
if trip then trip_ttl = redis.call('PTTL', KEYS[3]) else trip = '' end
return {took, string.format('%.0f', wait), string.format('%.17g', rate), epoch,
  string.format('%.17g', wmax), string.format('%.0f', now - cut), members, trip, trip_ttl}
