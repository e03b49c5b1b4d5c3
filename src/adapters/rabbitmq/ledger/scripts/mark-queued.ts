/**
 * After RabbitMQ confirmed the publishes: the tasks still pending are queued
 * (a pool may have claimed some already, which is fine). Returns how many
 * were pending.
 *
 * KEYS: the task hashes
 */
export const MARK_QUEUED = `
local marked = 0
for _, taskKey in ipairs(KEYS) do
  if redis.call('HGET', taskKey, 's') == 'pending' then
    redis.call('HSET', taskKey, 's', 'queued')
    marked = marked + 1
  end
end
return marked
`;
