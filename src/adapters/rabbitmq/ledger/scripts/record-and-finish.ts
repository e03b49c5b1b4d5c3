import { UPSERT_RECORD } from '../../../redis/store/scripts/upsert-tasks.js';
import { FINISH_TASK } from './finish.js';

/**
 * Several tasks' outcomes written to their store records (UPSERT_RECORD) and
 * the tasks ended in the ledger (FINISH_TASK), all in one step: no crash can
 * leave a task whose outcome is recorded still running in the ledger, where
 * its redelivered message would run it again. The record is written whether
 * or not this owner still holds the task, as the store's own update would;
 * the ledger changes only for its holder. Returns 1 or 0 per task: ended, or
 * not held.
 *
 * KEYS: the store's final set and retention key, then per task, 4: its record,
 * its ledger hash, its queue's running set, its key lease (or a dummy key)
 * ARGV: the store's final channel, the ledger's retention in seconds, key
 * channel and prefix, then the tasks as one JSON array, each [id, now,
 * creation fields, update fields (UPSERT_RECORD's), final state, owner,
 * attempt generation (FINISH_TASK's)]
 */
export const RECORD_AND_FINISH = `${UPSERT_RECORD}
${FINISH_TASK}
local finalTasks, retentionKey = KEYS[1], KEYS[2]
local finalChannel, retention, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local tasks = cjson.decode(ARGV[5])
local ended = {}
for item = 1, #tasks do
  local k, task = 2 + (item - 1) * 4, tasks[item]
  local id = task[1]
  upsertRecord(finalTasks, retentionKey, KEYS[k + 1], id, task[2], task[3], task[4])
  -- A key lease is named by its key.
  ended[item] = finishTask(KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], id, task[5], KEYS[k + 4], task[6], task[7], retention, keyChannel, prefix)
end
announceFinal(finalChannel)
return ended
`;
