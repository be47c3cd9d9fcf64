-- An account's breaker and how long it stays open.
-- KEYS: 1 the breaker
local trip = redis.call('GET', KEYS[1])
if not trip then return {'', -1} end
return {trip, redis.call('PTTL', KEYS[1])}
