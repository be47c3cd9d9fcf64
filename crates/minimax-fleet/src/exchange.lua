-- Alert counts over the fleet: each process's count of each incident key, summed over the
-- processes heard from lately.
-- KEYS: one hash per incident key
-- ARGV: 1 the caller's id, 2 how long a process's counts stand (ms), 3 TTL in ms,
--       then per key: count, first ms, last ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local base = 3 + (i - 1) * 3
  redis.call('HSET', KEYS[i], ARGV[1],
    ARGV[base + 1] .. ' ' .. ARGV[base + 2] .. ' ' .. ARGV[base + 3] .. ' ' .. string.format('%.0f', now))
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
  local all = redis.call('HGETALL', KEYS[i])
  local count, first, last = 0, 0, 0
  for j = 1, #all, 2 do
    local c, f, l, at = string.match(all[j + 1], '^(%d+) (%d+) (%d+) (%d+)$')
    if c and now - tonumber(at) <= stale then
      count = count + tonumber(c)
      f = tonumber(f)
      l = tonumber(l)
      if f > 0 and (first == 0 or f < first) then first = f end
      if l > last then last = l end
    else
      redis.call('HDEL', KEYS[i], all[j])
    end
  end
  out[i] = {string.format('%.0f', count), string.format('%.0f', first), string.format('%.0f', last)}
end
return out
