/**
 * A producer registers task ids before publishing them. Returns, per id,
 * 'new' for an id never seen (now 'pending'), or the id's current state. A
 * 'pending' id is one whose publish was not confirmed (a producer died
 * mid-enqueue, or is enqueueing it now): publishing it again is safe, claims
 * drop the duplicate.
 *
 * A new id counts as an arrival at once: a pool may claim the task before
 * its producer hears RabbitMQ's confirm.
 *
 * KEYS: the set of queue names, then per task, 3: its hash, its group set (or a dummy key), its queue's arrival counter
 * ARGV: group TTL in seconds, then per task, 5: id, queue, type, group ('' for none), key ('' for none)
 */
export const REGISTER = `
local queues, groupTtl = KEYS[1], ARGV[1]
local states = {}
for item = 1, (#KEYS - 1) / 3 do
  local taskKey, groupKey, arrivals = KEYS[3 * item - 1], KEYS[3 * item], KEYS[3 * item + 1]
  local at = 2 + 5 * (item - 1)
  local id, queue, taskType, group, key = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
  local state = redis.call('HGET', taskKey, 's')
  if state then
    states[item] = state
  else
    redis.call('HSET', taskKey, 's', 'pending', 'q', queue, 'ty', taskType, 'g', 0, 'k', key)
    redis.call('SADD', queues, queue)
    redis.call('INCR', arrivals)
    if group ~= '' then
      redis.call('SADD', groupKey, id)
      redis.call('EXPIRE', groupKey, groupTtl)
    end
    states[item] = 'new'
  end
end
return states
`;
