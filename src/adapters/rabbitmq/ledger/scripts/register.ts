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
 * Key names are built here from prefixes (see CLAIM).
 *
 * KEYS: the set of queue names
 * ARGV: group TTL in seconds, the prefixes of task hashes, group sets and
 * arrival counters (by queue), then the tasks as one JSON array, each [id,
 * queue, type, group ('' for none), key ('' for none)]
 */
export const REGISTER = `
local queues, groupTtl = KEYS[1], ARGV[1]
local taskPrefix, groupPrefix, arrivalsPrefix = ARGV[2], ARGV[3], ARGV[4]
local tasks = cjson.decode(ARGV[5])
local states = {}
for item = 1, #tasks do
  local id, queue, taskType, group, key = unpack(tasks[item])
  local taskKey = taskPrefix .. id
  local state = redis.call('HGET', taskKey, 's')
  if state then
    states[item] = state
  else
    redis.call('HSET', taskKey, 's', 'pending', 'q', queue, 'ty', taskType, 'g', 0, 'k', key)
    redis.call('SADD', queues, queue)
    redis.call('INCR', arrivalsPrefix .. queue)
    if group ~= '' then
      redis.call('SADD', groupPrefix .. group, id)
      redis.call('EXPIRE', groupPrefix .. group, groupTtl)
    end
    states[item] = 'new'
  end
end
return states
`;
