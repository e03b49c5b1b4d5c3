import { FINAL_TTL } from '../../../redis/store/scripts/settle.js';

/**
 * Cancels one task: a queued one is cancelled on the spot (its message is
 * dropped when it comes up) and lets its key go; a running one is flagged and
 * its pool is told on the cancel channel. Returns { outcome, queue, type }.
 *
 * KEYS: task hash
 * ARGV: id, the store's retention key (see FINAL_TTL), prefix (for the owner's cancelling set and the key lease), cancel channel, key channel
 */
export const CANCEL = `${FINAL_TTL}
local state = redis.call('HGET', KEYS[1], 's')
if not state then return {'unknown', '', ''} end
local queue = redis.call('HGET', KEYS[1], 'q')
local kind = redis.call('HGET', KEYS[1], 'ty')
if state == 'queued' or state == 'pending' then
  redis.call('HSET', KEYS[1], 's', 'cancelled')
  -- Its message stays in RabbitMQ until a consumer drops it: counts must not show it as ready.
  redis.call('INCR', ARGV[3] .. 'cancelled-queued:' .. queue)
  redis.call('PEXPIRE', KEYS[1], finalTtlOf(ARGV[2]))
  local key = redis.call('HGET', KEYS[1], 'k')
  if key and key ~= '' then
    local lease = ARGV[3] .. 'key:' .. queue .. ':' .. key
    if redis.call('GET', lease) == ARGV[1] then
      redis.call('DEL', lease)
      redis.call('PUBLISH', ARGV[5], lease)
    end
  end
  return {'cancelled', queue, kind}
end
if state == 'running' then
  local owner = redis.call('HGET', KEYS[1], 'o')
  redis.call('HSET', KEYS[1], 'c', '1')
  redis.call('SADD', ARGV[3] .. 'cancelling:' .. owner, ARGV[1])
  redis.call('PUBLISH', ARGV[4], owner)
  return {'stopping', queue, kind}
end
return {'finished', queue, kind}
`;
