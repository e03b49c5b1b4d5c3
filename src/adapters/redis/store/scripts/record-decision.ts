import type { Redis } from 'ioredis';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from '../../lua-script.js';
import { DEFAULT_FINAL_TTL_MS, MIN_FINAL_TTL_MS } from './settle.js';

/**
 * Adds a decision to the log of all pools and to its pool's, each capped.
 * Pool ids are new on every start, so a pool's own log expires after the
 * retention (that of task records) once its pool stops deciding; the shared
 * log is capped and kept.
 *
 * KEYS: all decisions, the pool's decisions, retention. ARGV: decision (JSON), cap.
 */
export const recordDecisionScript: RedisScript = {
  name: 'gafferRecordDecision',
  keys: 3,
  lua: `
local all, ofPool, retentionKey = KEYS[1], KEYS[2], KEYS[3]
local decision, cap = ARGV[1], tonumber(ARGV[2])
redis.call('LPUSH', all, decision)
redis.call('LTRIM', all, 0, cap - 1)
redis.call('LPUSH', ofPool, decision)
redis.call('LTRIM', ofPool, 0, cap - 1)
local ttl = tonumber(redis.call('GET', retentionKey)) or ${DEFAULT_FINAL_TTL_MS}
redis.call('PEXPIRE', ofPool, math.max(ttl, ${MIN_FINAL_TTL_MS}))
return 1
`,
};

export async function recordDecision(client: Redis, keys: StoreKeys, poolId: string, decision: string, cap: number): Promise<void> {
  await runScript(client, recordDecisionScript, [keys.decisions, keys.poolDecisions(poolId), keys.retention], [decision, cap]);
}
