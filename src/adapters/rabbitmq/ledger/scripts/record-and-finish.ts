import { SETTLE_RECORD } from '../../../redis/store/scripts/settle.js';
import { RELEASE_TASK } from './finish.js';

/**
 * Several tasks' outcomes written to their store records and the tasks ended
 * in the ledger, all in one step: no crash can leave a task whose outcome is
 * recorded still running in the ledger, where its redelivered message would
 * run it again. The record and the ledger's fields share the task's hash (see
 * the store's keys.ts), so that a task ends with one read and one write of
 * it: the record's update and, for the task's holder, the final state. The
 * record is written whether or not this owner still holds the task, as the
 * store's own update would (created if missing, then settled: SETTLE_RECORD);
 * the ledger changes only for its holder (released: RELEASE_TASK). The
 * records are final ones (an outcome), so the hash expires as a final
 * record's does. Returns 1 or 0 per task: ended, or not held.
 *
 * A task's keys are built here from prefixes, as in CLAIM: passed one by one,
 * four keys a task cost the client more than the rest of the call.
 *
 * KEYS: the store's final set and retention key
 * ARGV: the store's final channel, key channel, prefix, the prefix of task
 * hashes, then the tasks as one JSON array, each [id, now, the record's
 * creation fields, its update fields (see the store's upsertItem), final
 * state, owner, attempt generation, queue, key lease name ('' for none)]
 */
export const RECORD_AND_FINISH = `${SETTLE_RECORD}${RELEASE_TASK}
local finalTasks, retentionKey = KEYS[1], KEYS[2]
local finalChannel, keyChannel, prefix, taskPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function recordAndFinish(id, now, created, updated, state, owner, generation, queue, lease)
  local taskKey = taskPrefix .. id
  local fields = redis.call('HMGET', taskKey, 's', 'o', 'g', 'c', 'k', 'id')
  local task = heldBy(fields, owner, generation)
  -- Every hash of a task has its record's id or the ledger's state.
  local fresh = not fields[1] and not fields[6]
  if not fields[6] and #created > 0 then redis.call('HSET', taskKey, unpack(created)) end
  local recordState, finishedAt = writtenState(updated)
  if recordState == nil and fresh then recordState, finishedAt = writtenState(created) end
  local written = updated
  if task then
    written[#written + 1] = 's'
    written[#written + 1] = state
  end
  if #written > 0 then redis.call('HSET', taskKey, unpack(written)) end
  settleRecord(finalTasks, retentionKey, now, taskKey, id, recordState, finishedAt, fresh)
  if not task then return 0 end
  releaseTask(task, queue, lease, id, owner, keyChannel, prefix)
  return 1
end
local tasks = cjson.decode(ARGV[5])
local ended = {}
for item = 1, #tasks do
  local t = tasks[item]
  ended[item] = recordAndFinish(t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9])
end
applyRunningCounts()
flushFinal(finalChannel)
return ended
`;
