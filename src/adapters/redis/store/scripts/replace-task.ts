import type { ChainableCommander } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { queueScript, type RedisScript } from '../../lua-script.js';
import { FORGET_RECORD, TASK_SCRIPT_HEAD, TASK_SCRIPT_KEYS, taskScriptHead, taskScriptKeys } from './settle.js';

/** Writes a task record wholesale, nothing of the old one left; ARGV from 4: the field/value pairs. */
export const replaceTaskScript: RedisScript = {
  name: 'gafferReplaceTask',
  keys: TASK_SCRIPT_KEYS,
  lua: `${TASK_SCRIPT_HEAD}${FORGET_RECORD}
forgetRecord(taskKey)
redis.call('HSET', taskKey, unpack(ARGV, 4))
settle()
return 1
`,
};

export function queueReplaceTask(pipeline: ChainableCommander, keys: StoreKeys, id: string, now: number, fields: readonly string[]): void {
  queueScript(pipeline, replaceTaskScript, taskScriptKeys(keys, id), [...taskScriptHead(keys, id, now), ...fields]);
}
