/**
 * After RabbitMQ confirmed the publishes: the tasks still pending are queued
 * (a pool may have claimed some already, which is fine). Returns how many
 * were pending.
 *
 * KEYS: none
 * ARGV: the prefix of task hashes, then the ids as one JSON array (key names are built here, see CLAIM)
 */
export const MARK_QUEUED = `
local taskPrefix = ARGV[1]
local marked = 0
for _, id in ipairs(cjson.decode(ARGV[2])) do
  local taskKey = taskPrefix .. id
  if redis.call('HGET', taskKey, 's') == 'pending' then
    redis.call('HSET', taskKey, 's', 'queued')
    marked = marked + 1
  end
end
return marked
`;
