import type { ChainableCommander } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { queueScript, type RedisScript } from './script.js';
import { TASK_SCRIPT_HEAD, TASK_SCRIPT_KEYS, taskScriptHead, taskScriptKeys } from './settle.js';

/** Creates a task record unless one exists; ARGV from 4: the record's field/value pairs. Returns 1 if created. */
export const createTaskScript: RedisScript = {
  name: 'gafferCreateTask',
  keys: TASK_SCRIPT_KEYS,
  lua: `${TASK_SCRIPT_HEAD}
if redis.call('EXISTS', taskKey) == 1 then return 0 end
redis.call('HSET', taskKey, unpack(ARGV, 4))
settle()
return 1
`,
};

export function queueCreateTask(pipeline: ChainableCommander, keys: StoreKeys, id: string, now: number, fields: readonly string[]): void {
  queueScript(pipeline, createTaskScript, taskScriptKeys(keys, id), [...taskScriptHead(keys, id, now), ...fields]);
}
