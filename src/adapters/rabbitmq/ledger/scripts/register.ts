/**
 * A producer registers a task id before publishing it. Returns 'new' for an
 * id never seen (now 'pending'), or the id's current state. A 'pending' id is
 * one whose publish was not confirmed (a producer died mid-enqueue, or is
 * enqueueing it now): publishing it again is safe, claims drop the duplicate.
 *
 * A new id counts as an arrival at once: a pool may claim the task before
 * its producer hears RabbitMQ's confirm.
 *
 * KEYS: task hash, set of queue names, group set (or a dummy key), the queue's arrival counter
 * ARGV: id, queue, type, group ('' for none), key ('' for none), group TTL in seconds
 */
export const REGISTER = `
local state = redis.call('HGET', KEYS[1], 's')
if state then return state end
redis.call('HSET', KEYS[1], 's', 'pending', 'q', ARGV[2], 'ty', ARGV[3], 'g', 0, 'k', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[4])
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 'new'
`;
