/**
 * Decides what a pool does with a delivery, atomically:
 * - run: it is ours now (state running, lease recorded, key lease taken);
 * - mine: we run it already (redelivered after our channel died): keep going;
 * - key_busy: another task of its key runs: hold it and try again later;
 * - cancel_requested: cancelled while it ran elsewhere: ours now, to be ended as cancelled;
 * - drop: finished, cancelled, or a stale copy (an older attempt): ack it, run nothing.
 * A task that was published without the ledger (another producer) is taken as queued.
 * Such a task with a key waits a lease length before it takes a free key's
 * lease (key_busy meanwhile): the ledger did not know it because Redis
 * restarted empty, most likely, and forgot the leases of the tasks the pools
 * run; each pool writes its own back as soon as Redis is back, and at every
 * renewal (see RENEW).
 *
 * Several deliveries in one step (the batch a pool takes), each decided on
 * its own; returns one verdict per delivery.
 *
 * Key names are built here from the prefixes the Ledger passes, not passed
 * one by one: four keys a delivery as arguments cost the client more than the
 * rest of the claim (ioredis handles each argument on its own).
 *
 * KEYS: none
 * ARGV: prefix, owner, lease end (ms), lease length (ms), the prefixes of task
 * hashes, running sets (by queue) and counts of cancelled tasks still in
 * RabbitMQ (by queue), then the deliveries as one JSON array, each [id,
 * attempt generation of this copy (a decimal string: Lua would format a
 * number for every call that writes it), key ('' for none), queue, type, key
 * lease name (a dummy key, never set, for none)]
 */
export const CLAIM = `
local prefix, owner, leaseEnd, leaseMs = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local taskPrefix, runningPrefix, cancelledQueuedPrefix = ARGV[5], ARGV[6], ARGV[7]
local now = tonumber(leaseEnd) - tonumber(leaseMs)
local function claim(taskKey, runningSet, leaseKey, cancelledQueued, id, generation, key, queue, taskType)
  local task = redis.call('HMGET', taskKey, 's', 'g', 'o', 'c', 'u')
  local state, holder, unknownSince = task[1], task[3], tonumber(task[5])
  if not state then
    -- 'u': when the ledger first saw a task it did not know.
    redis.call('HSET', taskKey, 's', 'queued', 'q', queue, 'ty', taskType, 'g', generation, 'k', key, 'u', now)
    state, unknownSince = 'queued', now
  end
  if state == 'cancelled' then
    if (tonumber(redis.call('GET', cancelledQueued)) or 0) > 0 then redis.call('DECR', cancelledQueued) end
    return 'drop'
  end
  if state == 'done' or state == 'dead' then return 'drop' end
  local known = tonumber(task[2]) or 0
  if tonumber(generation) < known then return 'drop' end
  if state == 'running' and holder == owner then return 'mine' end
  local verdict = 'run'
  if task[4] == '1' then
    -- Its cancellation now waits on this owner, not on the one that lost it.
    if holder then redis.call('SREM', prefix .. 'cancelling:' .. holder, id) end
    redis.call('SADD', prefix .. 'cancelling:' .. owner, id)
    verdict = 'cancel_requested'
  elseif key ~= '' then
    local lease = redis.call('GET', leaseKey)
    if lease and lease ~= id then return 'key_busy' end
    if not lease and unknownSince and now - unknownSince < tonumber(leaseMs) then return 'key_busy' end
    redis.call('SET', leaseKey, id, 'PX', leaseMs)
  end
  redis.call('HSET', taskKey, 's', 'running', 'o', owner, 'g', generation)
  redis.call('ZADD', runningSet, leaseEnd, id)
  return verdict
end
local deliveries = cjson.decode(ARGV[8])
local verdicts = {}
for item = 1, #deliveries do
  local d = deliveries[item]
  local queue = d[4]
  verdicts[item] = claim(taskPrefix .. d[1], runningPrefix .. queue, d[6], cancelledQueuedPrefix .. queue, d[1], d[2], d[3], queue, d[5])
end
return verdicts
`;
