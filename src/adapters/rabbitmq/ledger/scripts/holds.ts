/**
 * Whether `owner` still holds this attempt of the task. An owner that lost
 * it (its connection died and another pool took it) must change nothing:
 * every settling script starts with this check.
 *
 * ARGV (after the task hash as KEYS[1]): owner, attempt generation
 */
export const HOLDS = `
local function holds(owner, generation)
  return redis.call('HGET', KEYS[1], 's') == 'running'
    and redis.call('HGET', KEYS[1], 'o') == owner
    and tonumber(redis.call('HGET', KEYS[1], 'g')) == tonumber(generation)
end
`;
