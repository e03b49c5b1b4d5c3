import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from '../../lua-script.js';
import { SETTLE_RECORD } from './settle.js';

/** A record to create: its id, the time, and its field/value pairs. */
export interface RecordCreation {
  id: string;
  now: number;
  fields: readonly string[];
}

/**
 * Creates task records, each unless one exists, and settles each
 * (SETTLE_RECORD). Returns how many were created. Key names are built here
 * from the records' prefix: one argument for all records, not a key each
 * (the client's cost goes by the argument).
 *
 * KEYS: final set, retention.
 * ARGV: channel, the prefix of record hashes, then the records as one JSON
 * array, each [id, now, its field/values].
 */
export const createTasksScript: RedisScript = {
  name: 'gafferCreateTasks',
  keys: 'variable',
  lua: `
local finalTasks, retentionKey, channel, recordPrefix = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
${SETTLE_RECORD}
local created = 0
for _, record in ipairs(cjson.decode(ARGV[3])) do
  local id, now, fields = record[1], record[2], record[3]
  local taskKey = recordPrefix .. id
  -- The hash may exist with the broker ledger's fields alone (see keys.ts): a record exists if its id is there.
  local fresh = redis.call('EXISTS', taskKey) == 0
  if fresh or redis.call('HEXISTS', taskKey, 'id') == 0 then
    redis.call('HSET', taskKey, unpack(fields))
    local state, finishedAt = writtenState(fields)
    settleRecord(finalTasks, retentionKey, now, taskKey, id, state, finishedAt, fresh)
    created = created + 1
  end
end
flushFinal(channel)
return created
`,
};

export function createTasks(client: Redis, keys: StoreKeys, records: readonly RecordCreation[]): Promise<unknown> {
  const items = JSON.stringify(records.map((record) => [record.id, record.now, record.fields]));
  return runScript(client, createTasksScript, [keys.finalTasks, keys.retention], [keys.finalChannel, keys.taskPrefix, items]);
}
