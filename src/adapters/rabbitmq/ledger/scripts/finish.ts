import { FINAL_TTL } from '../../../redis/store/scripts/settle.js';
import { HOLDS } from './holds.js';
import { RUNNING_COUNTS } from './running-counts.js';

/**
 * What ends with a task its holder ends, besides its state, as a Lua
 * function: it no longer counts as running for its owner (once the script
 * calls applyRunningCounts, see RUNNING_COUNTS), it leaves its owner's
 * cancelling set, and its key lets the next task of the key go (announced on
 * the key channel).
 */
export const RELEASE_TASK = `${HOLDS}${RUNNING_COUNTS}
local function releaseTask(task, queue, lease, id, owner, keyChannel, prefix)
  countRunning(prefix, queue, owner, -1)
  if task.cancelling then redis.call('SREM', prefix .. 'cancelling:' .. owner, id) end
  -- A key lease is announced by its name, the key it is stored under.
  if task.keyed and redis.call('GET', lease) == id then
    redis.call('DEL', lease)
    redis.call('PUBLISH', keyChannel, lease)
  end
end
`;

/**
 * One task ended for good (done, dead or cancelled), as a Lua function: its
 * hash expires as a final record's does (FINAL_TTL), and it is released
 * (RELEASE_TASK). Only the task's current holder can end it; for anyone else
 * it is left as it is. Returns 1 or 0: ended, or not held.
 */
export const FINISH_TASK = `${FINAL_TTL}${RELEASE_TASK}
local function finishTask(taskKey, queue, lease, id, state, owner, generation, retentionKey, keyChannel, prefix)
  local task = holding(taskKey, owner, generation)
  if not task then return 0 end
  -- Its holder ('o') and cancel flag ('c') stay: every reader looks at a final state first, and a restart writes them anew.
  redis.call('HSET', taskKey, 's', state)
  redis.call('PEXPIRE', taskKey, finalTtlOf(retentionKey))
  releaseTask(task, queue, lease, id, owner, keyChannel, prefix)
  return 1
end
`;

/**
 * Several tasks ended (FINISH_TASK) in one step. Returns 1 or 0 per task.
 *
 * KEYS: per task, 2: its hash, its key lease (or a dummy key)
 * ARGV: the store's retention key (see FINAL_TTL), key channel, prefix, then per task, 5: id, final state, owner, attempt generation, queue
 */
export const FINISH = `${FINISH_TASK}
local retentionKey, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3]
local ended = {}
for item = 1, #KEYS / 2 do
  local at = 4 + (item - 1) * 5
  ended[item] = finishTask(KEYS[2 * item - 1], ARGV[at + 4], KEYS[2 * item], ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], retentionKey, keyChannel, prefix)
end
applyRunningCounts()
return ended
`;
