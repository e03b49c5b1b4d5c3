/**
 * Whether `owner` still holds this attempt of the task. An owner that lost
 * it (its connection died and another pool took it) must change nothing:
 * every settling script starts with this check.
 *
 * Arguments: the task hash, owner, attempt generation
 */
export const HOLDS = `
local function holds(taskKey, owner, generation)
  local task = redis.call('HMGET', taskKey, 's', 'o', 'g')
  return task[1] == 'running' and task[2] == owner and tonumber(task[3]) == tonumber(generation)
end
`;
