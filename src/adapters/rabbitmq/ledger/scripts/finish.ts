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
local function releaseTask(task, queue, leaseKey, id, leaseName, owner, keyChannel, prefix)
  countRunning(prefix, queue, owner, -1)
  if task.cancelling then redis.call('SREM', prefix .. 'cancelling:' .. owner, id) end
  if task.keyed and redis.call('GET', leaseKey) == id then
    redis.call('DEL', leaseKey)
    redis.call('PUBLISH', keyChannel, leaseName)
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
local function finishTask(taskKey, queue, leaseKey, id, state, leaseName, owner, generation, retentionKey, keyChannel, prefix)
  local task = holding(taskKey, owner, generation)
  if not task then return 0 end
  -- Its holder ('o') and cancel flag ('c') stay: every reader looks at a final state first, and a restart writes them anew.
  redis.call('HSET', taskKey, 's', state)
  redis.call('PEXPIRE', taskKey, finalTtlOf(retentionKey))
  releaseTask(task, queue, leaseKey, id, leaseName, owner, keyChannel, prefix)
  return 1
end
`;

/**
 * Several tasks ended (FINISH_TASK) in one step. Returns 1 or 0 per task.
 *
 * KEYS: per task, 2: its hash, its key lease (or a dummy key)
 * ARGV: the store's retention key (see FINAL_TTL), key channel, prefix, then per task, 6: id, final state, key lease name, owner, attempt generation, queue
 */
export const FINISH = `${FINISH_TASK}
local retentionKey, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3]
local ended = {}
for item = 1, #KEYS / 2 do
  local at = 4 + (item - 1) * 6
  ended[item] = finishTask(KEYS[2 * item - 1], ARGV[at + 5], KEYS[2 * item], ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4], retentionKey, keyChannel, prefix)
end
applyRunningCounts()
return ended
`;
