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
 * A task's keys are built here from prefixes, as in CLAIM: passed one by one,
 * four keys a task cost the client more than the rest of the call.
 *
 * KEYS: the store's final set and retention key
 * ARGV: the store's final channel, the ledger's retention in seconds, key
 * channel and prefix, the prefixes of store records, ledger hashes and
 * running sets (by queue), then the tasks as one JSON array, each [id, now,
 * creation fields, update fields (UPSERT_RECORD's), final state, owner,
 * attempt generation (FINISH_TASK's), queue, key lease name (a dummy key,
 * never set, for none)]
 */
export const RECORD_AND_FINISH = `${UPSERT_RECORD}
${FINISH_TASK}
local finalTasks, retentionKey = KEYS[1], KEYS[2]
local finalChannel, retention, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local recordPrefix, taskPrefix, runningPrefix = ARGV[5], ARGV[6], ARGV[7]
local tasks = cjson.decode(ARGV[8])
local ended = {}
for item = 1, #tasks do
  local task = tasks[item]
  local id, lease = task[1], task[9]
  upsertRecord(finalTasks, retentionKey, recordPrefix .. id, id, task[2], task[3], task[4])
  -- A key lease is named by its key.
  ended[item] = finishTask(taskPrefix .. id, runningPrefix .. task[8], lease, id, task[5], lease, task[6], task[7], retention, keyChannel, prefix)
end
announceFinal(finalChannel)
return ended
`;
