import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from './script.js';
import { TASK_SCRIPT_HEAD, TASK_SCRIPT_KEYS, taskScriptHead, taskScriptKeys } from './settle.js';

/**
 * A partial update, creating the record if it is missing. ARGV[4] is the
 * count n of the arguments after it that only a new record gets (its
 * identity and starting values); the rest are the update's field/value
 * pairs, written over whatever is there. Check and write are one step, so
 * two writers never both "create" a record or lose each other's fields.
 */
export const upsertTaskScript: RedisScript = {
  name: 'gafferUpsertTask',
  keys: TASK_SCRIPT_KEYS,
  lua: `${TASK_SCRIPT_HEAD}
local created = tonumber(ARGV[4])
if redis.call('EXISTS', taskKey) == 0 then
  redis.call('HSET', taskKey, unpack(ARGV, 5, 4 + created))
end
redis.call('HSET', taskKey, unpack(ARGV, 5 + created))
settle()
return 1
`,
};

/**
 * Upserts one record. A direct call, not a pipeline of the caller's: the
 * client's auto-pipelining sends the upserts of one turn of the event loop
 * (the outcomes of several tasks) in one write.
 */
export function upsertTask(
  client: Redis,
  keys: StoreKeys,
  id: string,
  now: number,
  fields: { whenCreated: readonly string[]; update: readonly string[] },
): Promise<unknown> {
  return runScript(client, upsertTaskScript, taskScriptKeys(keys, id), [
    ...taskScriptHead(keys, id, now),
    fields.whenCreated.length,
    ...fields.whenCreated,
    ...fields.update,
  ]);
}
