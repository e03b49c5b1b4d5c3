import { HOLDS } from './holds.js';

/**
 * Tasks ended for good (done, dead or cancelled), several in one step: each
 * record expires after the retention, leaves the running set, and its key
 * lets the next task of the key go (announced on the key channel). Only a
 * task's current holder can end it; for anyone else that task is left as it
 * is. Returns 1 or 0 per task: ended, or not held.
 *
 * KEYS: per task, 3: its hash, its queue's running set, its key lease (or a dummy key)
 * ARGV: retention in seconds, key channel, prefix, then per task, 5: id, final state, key lease name, owner, attempt generation
 */
export const FINISH = `${HOLDS}
local retention, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3]
local ended = {}
for item = 1, #KEYS / 3 do
  local taskKey, runningSet, leaseKey = KEYS[3 * item - 2], KEYS[3 * item - 1], KEYS[3 * item]
  local at = 4 + (item - 1) * 5
  local id, state, leaseName, owner, generation = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
  ended[item] = 0
  if holds(taskKey, owner, generation) then
    redis.call('HSET', taskKey, 's', state)
    redis.call('HDEL', taskKey, 'c', 'o')
    redis.call('EXPIRE', taskKey, retention)
    redis.call('ZREM', runningSet, id)
    redis.call('SREM', prefix .. 'cancelling:' .. owner, id)
    if redis.call('GET', leaseKey) == id then
      redis.call('DEL', leaseKey)
      redis.call('PUBLISH', keyChannel, leaseName)
    end
    ended[item] = 1
  end
end
return ended
`;
