import { FINAL_STATES } from '../../../../core/task-record.js';
import { RECORD_FIELDS } from '../task-hash.js';
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
 * forgetRecord(taskKey): removes a record's fields, and with them the hash
 * unless the broker's ledger keeps fields of its own there (see keys.ts),
 * which stay until their TTL. Returns whether there was a record.
 */
export const FORGET_RECORD = `
local RECORD_FIELDS = { ${RECORD_FIELDS.map((field) => `'${field}'`).join(', ')} }
local function forgetRecord(taskKey)
  return redis.call('HDEL', taskKey, unpack(RECORD_FIELDS)) > 0
end
`;

/**
 * finalTtlOf(retentionKey): the TTL of a task hash that became final, in ms
 * as a string: the retention the last prune stored, or the default, never
 * less than MIN_FINAL_TTL_MS. Read once per script call, however many tasks
 * it ends. The RabbitMQ broker's ledger keeps its fields in the same hash
 * (see keys.ts) and ends them with the same TTL.
 */
export const FINAL_TTL = `
local finalTtl
local function finalTtlOf(retentionKey)
  -- Numbers go to Redis as the strings they came as: Lua formats a number for each call that takes one.
  finalTtl = finalTtl or tostring(math.max(tonumber(redis.call('GET', retentionKey)) or ${DEFAULT_FINAL_TTL_MS}, ${MIN_FINAL_TTL_MS}))
  return finalTtl
end
`;

/**
 * Puts a record's final-ness in order after a write, in the same atomic step:
 * a final record joins the final set (for prune) and expires after the
 * retention (the one the last prune stored, or the default; read once per
 * script call, however many records it settles); a record that is not final
 * (again) leaves the set and loses its TTL. The caller passes the state and
 * finishedAt it just wrote, when it wrote them: only what it did not write is
 * read back. A record whose hash this write created (`fresh`) has no TTL to
 * lose, but its id may linger in the final set from an expired record of the
 * same id, and leaves it; a record created in a hash that held the ledger's
 * fields alone is not fresh.
 *
 * flushFinal(channel) ends every script that settles records: the final set
 * changes there, one ZREM and one ZADD for all of the script's records (this
 * and the ledger's shorter arguments took 3-4% off Redis's own time in
 * record-and-finish, over interleaved runs of both versions), and the ids
 * settled final are published as one JSON array, one message per script
 * call, so that watchers wake.
 */
export const SETTLE_RECORD = `${FINAL_TTL}
local FINAL = { ${FINAL_TABLE} }
local settledFinal = {}
local finalIndex
-- What flushFinal writes to the final set: the last score of each record settled final, and the ids settled not final.
local finalScores, unindexed = {}, {}
local function settleRecord(finalTasks, retentionKey, now, taskKey, id, state, finishedAt, fresh)
  finalIndex = finalTasks
  if state == nil then
    local record = redis.call('HMGET', taskKey, 'state', 'finishedAt')
    state, finishedAt = record[1], record[2]
  elseif FINAL[state] and finishedAt == nil then
    finishedAt = redis.call('HGET', taskKey, 'finishedAt')
  end
  if FINAL[state] then
    finalScores[id] = tonumber(finishedAt) and finishedAt or now
    redis.call('PEXPIRE', taskKey, finalTtlOf(retentionKey))
    settledFinal[#settledFinal + 1] = id
  else
    finalScores[id] = nil
    unindexed[#unindexed + 1] = id
    if not fresh then redis.call('PERSIST', taskKey) end
  end
end
-- The state and finishedAt among field/value pairs, where the write sets them.
local function writtenState(pairs)
  local state, finishedAt
  for index = 1, #pairs - 1, 2 do
    if pairs[index] == 'state' then state = pairs[index + 1] elseif pairs[index] == 'finishedAt' then finishedAt = pairs[index + 1] end
  end
  return state, finishedAt
end
local function flushFinal(channel)
  -- Leaving first: a record settled not final and then final again within the call ends in the set.
  if #unindexed > 0 then redis.call('ZREM', finalIndex, unpack(unindexed)) end
  local scored = {}
  for id, score in pairs(finalScores) do
    scored[#scored + 1] = score
    scored[#scored + 1] = id
  end
  if #scored > 0 then redis.call('ZADD', finalIndex, unpack(scored)) end
  if #settledFinal > 0 then redis.call('PUBLISH', channel, cjson.encode(settledFinal)) end
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
local function settle()
  settleRecord(finalTasks, retentionKey, now, taskKey, id)
  flushFinal(channel)
end
`;

export const TASK_SCRIPT_KEYS = 3;

export function taskScriptKeys(keys: StoreKeys, id: string): string[] {
  return [keys.task(id), keys.finalTasks, keys.retention];
}

export function taskScriptHead(keys: StoreKeys, id: string, now: number): ScriptArg[] {
  return [id, keys.finalChannel, now];
}
