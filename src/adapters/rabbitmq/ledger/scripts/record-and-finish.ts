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
 * channel and prefix, then per task, 9: the record's id, now, creation and
 * update fields (UPSERT_RECORD's), then id, final state, key lease name,
 * owner, attempt generation (FINISH_TASK's)
 */
export const RECORD_AND_FINISH = `${UPSERT_RECORD}
${FINISH_TASK}
local finalTasks, retentionKey = KEYS[1], KEYS[2]
local finalChannel, retention, keyChannel, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ended = {}
for item = 1, (#KEYS - 2) / 4 do
  local k, at = 2 + (item - 1) * 4, 5 + (item - 1) * 9
  upsertRecord(finalTasks, retentionKey, finalChannel, KEYS[k + 1], ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2], ARGV[at + 3])
  ended[item] = finishTask(KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], ARGV[at + 4], ARGV[at + 5], ARGV[at + 6], ARGV[at + 7], ARGV[at + 8], retention, keyChannel, prefix)
end
return ended
`;
