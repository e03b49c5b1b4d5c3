/**
 * After RabbitMQ confirmed the publish: a task still pending is queued (a
 * pool may have claimed it already, which is fine). Returns 1 if it was pending.
 *
 * KEYS: task hash
 */
export const MARK_QUEUED = `
if redis.call('HGET', KEYS[1], 's') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 's', 'queued')
return 1
`;
