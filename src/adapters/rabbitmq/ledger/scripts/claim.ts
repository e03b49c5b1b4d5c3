/**
 * Decides what a pool does with a delivery, atomically:
 * - run: it is ours now (state running, lease recorded, key lease taken);
 * - mine: we run it already (redelivered after our channel died): keep going;
 * - key_busy: another task of its key runs: hold it and try again later;
 * - cancel_requested: cancelled while it ran elsewhere: ours now, to be ended as cancelled;
 * - drop: finished, cancelled, or a stale copy (an older attempt): ack it, run nothing.
 * A task that was published without the ledger (another producer) is taken as queued.
 *
 * KEYS: task hash, the queue's running set (scored by lease end), the key lease (or a dummy key), the queue's count of cancelled tasks still in RabbitMQ
 * ARGV: id, owner, attempt generation of this copy, lease end (ms), lease length (ms), has key ('1'/'0'), queue, type, prefix
 */
export const CLAIM = `
local state = redis.call('HGET', KEYS[1], 's')
local generation = tonumber(ARGV[3])
if not state then
  redis.call('HSET', KEYS[1], 's', 'queued', 'q', ARGV[7], 'ty', ARGV[8], 'g', generation, 'k', '')
  state = 'queued'
end
if state == 'cancelled' then
  if (tonumber(redis.call('GET', KEYS[4])) or 0) > 0 then redis.call('DECR', KEYS[4]) end
  return 'drop'
end
if state == 'done' or state == 'dead' then return 'drop' end
local known = tonumber(redis.call('HGET', KEYS[1], 'g')) or 0
if generation < known then return 'drop' end
local holder = redis.call('HGET', KEYS[1], 'o')
if state == 'running' and holder == ARGV[2] then return 'mine' end
local verdict = 'run'
if redis.call('HGET', KEYS[1], 'c') == '1' then
  -- Its cancellation now waits on this owner, not on the one that lost it.
  if holder then redis.call('SREM', ARGV[9] .. 'cancelling:' .. holder, ARGV[1]) end
  redis.call('SADD', ARGV[9] .. 'cancelling:' .. ARGV[2], ARGV[1])
  verdict = 'cancel_requested'
elseif ARGV[6] == '1' then
  local lease = redis.call('GET', KEYS[3])
  if lease and lease ~= ARGV[1] then return 'key_busy' end
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5])
end
redis.call('HSET', KEYS[1], 's', 'running', 'o', ARGV[2], 'g', generation)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return verdict
`;
