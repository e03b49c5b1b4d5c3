/**
 * Whether `owner` still holds this attempt of the task. An owner that lost
 * it (its connection died and another pool took it) must change nothing:
 * every settling script starts with this check.
 *
 * Returns nil when it does not; else what the settling scripts need to know
 * of the task, read in the same call: whether a cancellation was requested
 * (only then is the task in its owner's cancelling set) and whether it has a
 * key (only then can it hold a key lease; a task whose hash predates the 'k'
 * field counts as keyed, which only costs a lookup).
 *
 * Arguments: the task hash, owner, attempt generation. heldBy() answers the
 * same from the hash's fields s, o, g, c and k, read by the caller (with
 * others in the same HMGET).
 */
export const HOLDS = `
local function heldBy(fields, owner, generation)
  if fields[1] ~= 'running' or fields[2] ~= owner or tonumber(fields[3]) ~= tonumber(generation) then return nil end
  return { cancelling = fields[4] == '1', keyed = fields[5] ~= '' }
end
local function holding(taskKey, owner, generation)
  return heldBy(redis.call('HMGET', taskKey, 's', 'o', 'g', 'c', 'k'), owner, generation)
end
`;
