import { HOLDS } from './holds.js';
import { RUNNING_COUNTS } from './running-counts.js';

/**
 * A task goes back to its queue (a retry after a failure or a death, or a
 * release): queued again under its new attempt generation. Its key lease is
 * kept until the task comes back (the younger tasks of its key wait for it).
 * Only its current holder can requeue it; returns 0 for anyone else.
 *
 * KEYS: task hash, the key lease (or a dummy key)
 * ARGV: id, new generation, how long to keep the key lease (ms), owner, current generation, prefix, queue
 */
export const REQUEUE = `${HOLDS}${RUNNING_COUNTS}
local task = holding(KEYS[1], ARGV[4], ARGV[5])
if not task then return 0 end
redis.call('HSET', KEYS[1], 's', 'queued', 'g', ARGV[2])
redis.call('HDEL', KEYS[1], 'o')
countRunning(ARGV[6], ARGV[7], ARGV[4], -1)
applyRunningCounts()
if task.cancelling then redis.call('SREM', ARGV[6] .. 'cancelling:' .. ARGV[4], ARGV[1]) end
if task.keyed and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
`;
