-- A throttle seen by one process: the first cut of an epoch sets the fleet's rate and starts a
-- new epoch; a hold holds every process's turns.
-- KEYS: 1 the pace hash
-- ARGV: 1 the epoch the throttled request was sent in, 2 '1' for a cut, 3 the new rate,
--       4 the rate the account accepted, 5 hold in µs (0: none), 6 the new epoch, 7 TTL in ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return 0 end
local cut = 0
if ARGV[2] == '1' and ARGV[1] == epoch then
  redis.call('HSET', KEYS[1], 'rate', ARGV[3], 'wmax', ARGV[4], 'cut', string.format('%.0f', now),
    'epoch', ARGV[6])
  cut = 1
end
local hold_us = tonumber(ARGV[5])
if hold_us > 0 then
  local hold = tonumber(redis.call('HGET', KEYS[1], 'hold')) or 0
  if now + hold_us > hold then
    redis.call('HSET', KEYS[1], 'hold', string.format('%.0f', now + hold_us))
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return cut
