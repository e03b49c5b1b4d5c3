import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from '../../lua-script.js';
import { SETTLE_RECORD } from './settle.js';

/** One record's part of an upsert: the fields only a new record gets (its identity and starting values), and the update's. */
export interface RecordUpsert {
  id: string;
  now: number;
  whenCreated: readonly string[];
  update: readonly string[];
}

/** A record's upsert with the keys of its store: what another script needs to write it too (see RECORD_AND_FINISH). */
export interface RecordWrite {
  keys: StoreKeys;
  upsert: RecordUpsert;
}

/**
 * One record's upsert, as a Lua function: creates the record if it is
 * missing, applies the update and settles it (SETTLE_RECORD). The RabbitMQ
 * broker's record-and-finish script does the same for the records it writes,
 * with the ledger's fields of the task in the same write (see RedisSettlement).
 */
export const UPSERT_RECORD = `${SETTLE_RECORD}
local function upsertRecord(finalTasks, retentionKey, taskKey, id, now, created, updated)
  local fresh = false
  -- A record exists if its id is there: the hash may hold the broker ledger's fields alone (see keys.ts).
  if #created > 0 and redis.call('HEXISTS', taskKey, 'id') == 0 then
    fresh = redis.call('EXISTS', taskKey) == 0
    redis.call('HSET', taskKey, unpack(created))
  end
  if #updated > 0 then redis.call('HSET', taskKey, unpack(updated)) end
  local state, finishedAt = writtenState(updated)
  if state == nil and fresh then state, finishedAt = writtenState(created) end
  settleRecord(finalTasks, retentionKey, now, taskKey, id, state, finishedAt, fresh)
end
`;

/** An upsert as UPSERT_RECORD takes it after the record's key, for a script's JSON argument: id, now, creation fields, update fields. */
export function upsertItem(record: RecordUpsert): [string, number, readonly string[], readonly string[]] {
  return [record.id, record.now, record.whenCreated, record.update];
}

/**
 * Partial updates of several records, each creating its record if missing
 * and then settling it (UPSERT_RECORD). Check and write are one step per
 * record, so two writers never both "create" a record or lose each other's
 * fields; the records of one call are also one step, which nobody needs but
 * costs nothing.
 *
 * KEYS: final set, retention.
 * ARGV: channel, the prefix of record hashes (key names are built here, as in
 * createTasks), then the records as one JSON array of upsertItem()s (one
 * argument for all, not several a record: the client's cost goes by the
 * argument).
 */
export const upsertTasksScript: RedisScript = {
  name: 'gafferUpsertTasks',
  keys: 'variable',
  lua: `
local finalTasks, retentionKey, channel, recordPrefix = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
${UPSERT_RECORD}
local records = cjson.decode(ARGV[3])
for index = 1, #records do
  local record = records[index]
  upsertRecord(finalTasks, retentionKey, recordPrefix .. record[1], record[1], record[2], record[3], record[4])
end
flushFinal(channel)
return #records
`,
};

export function upsertTasks(client: Redis, keys: StoreKeys, records: readonly RecordUpsert[]): Promise<unknown> {
  const items = JSON.stringify(records.map(upsertItem));
  return runScript(client, upsertTasksScript, [keys.finalTasks, keys.retention], [keys.finalChannel, keys.taskPrefix, items]);
}
