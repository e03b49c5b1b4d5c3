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
 * (SETTLE_RECORD). Returns how many were created.
 *
 * KEYS: final set, retention, then each record's hash.
 * ARGV: channel, then per record: id, now, its field/values as a JSON array.
 */
export const createTasksScript: RedisScript = {
  name: 'gafferCreateTasks',
  keys: 'variable',
  lua: `
local finalTasks, retentionKey, channel = KEYS[1], KEYS[2], ARGV[1]
${SETTLE_RECORD}
local created, at = 0, 2
for index = 3, #KEYS do
  local taskKey, id, now = KEYS[index], ARGV[at], tonumber(ARGV[at + 1])
  if redis.call('EXISTS', taskKey) == 0 then
    local fields = cjson.decode(ARGV[at + 2])
    redis.call('HSET', taskKey, unpack(fields))
    local state, finishedAt = writtenState(fields)
    settleRecord(finalTasks, retentionKey, now, taskKey, id, state, finishedAt, true)
    created = created + 1
  end
  at = at + 3
end
announceFinal(channel)
return created
`,
};

export function createTasks(client: Redis, keys: StoreKeys, records: readonly RecordCreation[]): Promise<unknown> {
  const args: Array<string | number> = [keys.finalChannel];
  for (const record of records) args.push(record.id, record.now, JSON.stringify(record.fields));
  return runScript(client, createTasksScript, [keys.finalTasks, keys.retention, ...records.map((record) => keys.task(record.id))], args);
}
