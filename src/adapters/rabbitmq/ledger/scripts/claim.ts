/**
 * Decides what a pool does with a delivery, atomically:
 * - run: it is ours now (state running, lease recorded, key lease taken);
 * - mine: we run it already (redelivered after our channel died): keep going;
 * - key_busy: another task of its key runs: hold it and try again later;
 * - cancel_requested: cancelled while it ran elsewhere: end it as cancelled;
 * - drop: finished, cancelled, or a stale copy (an older attempt): ack it, run nothing.
 * A task that was published without the ledger (another producer) is taken as queued.
 *
 * KEYS: task hash, the queue's running set (scored by lease end), the key lease (or a dummy key)
 * ARGV: id, owner, attempt generation of this copy, lease end (ms), lease length (ms), has key ('1'/'0'), queue, type
 */
export const CLAIM = `
local state = redis.call('HGET', KEYS[1], 's')
local generation = tonumber(ARGV[3])
if not state then
  redis.call('HSET', KEYS[1], 's', 'queued', 'q', ARGV[7], 'ty', ARGV[8], 'g', generation, 'k', '')
  state = 'queued'
end
if state == 'done' or state == 'dead' or state == 'cancelled' then return 'drop' end
local known = tonumber(redis.call('HGET', KEYS[1], 'g')) or 0
if generation < known then return 'drop' end
if state == 'running' and redis.call('HGET', KEYS[1], 'o') == ARGV[2] then return 'mine' end
if redis.call('HGET', KEYS[1], 'c') == '1' then return 'cancel_requested' end
if ARGV[6] == '1' then
  local holder = redis.call('GET', KEYS[3])
  if holder and holder ~= ARGV[1] then return 'key_busy' end
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5])
end
redis.call('HSET', KEYS[1], 's', 'running', 'o', ARGV[2], 'g', generation)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 'run'
`;
