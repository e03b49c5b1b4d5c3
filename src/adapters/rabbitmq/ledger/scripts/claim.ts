import { RUNNING_COUNTS } from './running-counts.js';

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
 * A task that starts running counts for this owner, and no longer for the
 * owner it ran under if it did (see RUNNING_COUNTS).
 *
 * KEYS: none
 * ARGV: prefix, owner, lease end (ms), lease length (ms), the prefixes of task
 * hashes and counts of cancelled tasks still in RabbitMQ (by queue), then the
 * deliveries as one JSON array, each [id, attempt generation of this copy (a
 * decimal string: Lua would format a number for every call that writes it),
 * key ('' for none), queue, type, key lease name ('' for none)]
 */
export const CLAIM = `${RUNNING_COUNTS}
local prefix, owner, leaseEnd, leaseMs = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local taskPrefix, cancelledQueuedPrefix = ARGV[5], ARGV[6]
local now = tonumber(leaseEnd) - tonumber(leaseMs)
local function claim(taskKey, leaseKey, cancelledQueued, id, generation, key, queue, taskType)
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
  -- Taken over from a pool whose connection died: it no longer runs it.
  if state == 'running' and holder then countRunning(prefix, queue, holder, -1) end
  redis.call('HSET', taskKey, 's', 'running', 'o', owner, 'g', generation)
  countRunning(prefix, queue, owner, 1)
  return verdict
end
local deliveries = cjson.decode(ARGV[7])
local verdicts = {}
local started = {}
for item = 1, #deliveries do
  local d = deliveries[item]
  local queue = d[4]
  verdicts[item] = claim(taskPrefix .. d[1], d[6], cancelledQueuedPrefix .. queue, d[1], d[2], d[3], queue, d[5])
  if verdicts[item] == 'run' or verdicts[item] == 'cancel_requested' then started[queue] = true end
end
applyRunningCounts()
for queue in pairs(started) do leaseRunning(prefix, queue, owner, leaseEnd) end
return verdicts
`;
