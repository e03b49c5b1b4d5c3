import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from '../../lua-script.js';

/**
 * The snapshots of the pools in the index whose key has not expired; the ids
 * of expired ones leave the index. Check and removal are one step, so a pool
 * that reports at the same moment is never dropped from the index.
 *
 * KEYS: pool index. ARGV: pool key prefix. Returns the snapshots (JSON).
 */
export const listPoolsScript: RedisScript = {
  name: 'gafferListPools',
  keys: 1,
  lua: `
local index, poolPrefix = KEYS[1], ARGV[1]
local snapshots = {}
for _, id in ipairs(redis.call('SMEMBERS', index)) do
  local snapshot = redis.call('GET', poolPrefix .. id)
  if snapshot then
    snapshots[#snapshots + 1] = snapshot
  else
    redis.call('SREM', index, id)
  end
end
return snapshots
`,
};

export async function listPoolSnapshots(client: Redis, keys: StoreKeys): Promise<string[]> {
  return (await runScript(client, listPoolsScript, [keys.pools], [keys.poolPrefix])) as string[];
}
