import { FINAL_STATES } from '../../../../core/task-record.js';
import type { StoreKeys } from '../keys.js';
import type { ScriptArg } from '../../lua-script.js';

/** The TTL of final records until a prune has said what the retention is. */
export const DEFAULT_FINAL_TTL_MS = 24 * 3600_000;

/**
 * The shortest TTL a final record gets, whatever the retention: watchers are
 * told an id and read the record after, so it must outlive the notification.
 * Prune still forgets records by age exactly, TTL or not.
 */
export const MIN_FINAL_TTL_MS = 60_000;

const FINAL_TABLE = [...FINAL_STATES].map((state) => `['${state}'] = true`).join(', ');

/**
 * Puts a record's final-ness in order after a write, in the same atomic step:
 * a final record joins the final set (for prune), expires after the retention
 * (the one the last prune stored, or the default; read once per script call,
 * however many records it settles) and its id is published so that watchers
 * wake; a record that is not final (again) leaves the set and loses its TTL.
 */
export const SETTLE_RECORD = `
local FINAL = { ${FINAL_TABLE} }
local finalTtl
local function settleRecord(finalTasks, retentionKey, channel, now, taskKey, id)
  local record = redis.call('HMGET', taskKey, 'state', 'finishedAt')
  if FINAL[record[1]] then
    local finishedAt = tonumber(record[2]) or now
    redis.call('ZADD', finalTasks, finishedAt, id)
    finalTtl = finalTtl or math.max(tonumber(redis.call('GET', retentionKey)) or ${DEFAULT_FINAL_TTL_MS}, ${MIN_FINAL_TTL_MS})
    redis.call('PEXPIRE', taskKey, finalTtl)
    redis.call('PUBLISH', channel, id)
  else
    redis.call('ZREM', finalTasks, id)
    redis.call('PERSIST', taskKey)
  end
end
`;

/**
 * The start of the scripts that write one task record, with `settle()` (see
 * SETTLE_RECORD) for that record.
 *
 * KEYS: task hash, final set, retention. ARGV: id, channel, now, then the script's own.
 */
export const TASK_SCRIPT_HEAD = `
local taskKey, finalTasks, retentionKey = KEYS[1], KEYS[2], KEYS[3]
local id, channel, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
${SETTLE_RECORD}
local function settle() settleRecord(finalTasks, retentionKey, channel, now, taskKey, id) end
`;

export const TASK_SCRIPT_KEYS = 3;

export function taskScriptKeys(keys: StoreKeys, id: string): string[] {
  return [keys.task(id), keys.finalTasks, keys.retention];
}

export function taskScriptHead(keys: StoreKeys, id: string, now: number): ScriptArg[] {
  return [id, keys.finalChannel, now];
}
