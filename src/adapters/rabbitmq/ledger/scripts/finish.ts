import { HOLDS } from './holds.js';

/**
 * A task ended for good (done, dead or cancelled): its record expires after
 * the retention, it leaves the running set, and its key lets the next task
 * of the key go (announced on the key channel). Only its current holder can
 * end it; returns 0 (and changes nothing) for anyone else.
 *
 * KEYS: task hash, the queue's running set, the key lease (or a dummy key)
 * ARGV: id, final state, retention in seconds, key channel, key lease name, owner, attempt generation, prefix
 */
export const FINISH = `${HOLDS}
if not holds(ARGV[6], ARGV[7]) then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
redis.call('HDEL', KEYS[1], 'c', 'o')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', ARGV[8] .. 'cancelling:' .. ARGV[6], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
`;
