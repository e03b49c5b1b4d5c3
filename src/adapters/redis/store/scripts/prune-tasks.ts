import type { Redis } from 'ioredis';
import type { Retention } from '../../../../ports/store.js';
import type { StoreKeys } from '../keys.js';
import { runScript, type RedisScript } from '../../lua-script.js';
import { FORGET_RECORD } from './settle.js';

/**
 * One bounded step of prune, so that a large backlog never blocks Redis for
 * long: forgets up to `batch` final records, first those finished before the
 * cutoff, then the oldest beyond the count limit. Also stores the retention,
 * whose maxAgeMs becomes the TTL of records that become final from now on.
 *
 * KEYS: final set, retention. ARGV: cutoff, maxRecords, maxAgeMs, task key prefix, batch.
 * Returns { records deleted, whether the batch was used up (there may be more) }.
 * Ids in the final set whose record already expired by TTL leave the set without being counted.
 * A record goes, not its hash: under RabbitMQ the broker's ledger keeps its
 * fields there, so that a copy of a finished task is still known as one until
 * the hash's TTL (see forgetRecord).
 */
export const pruneTasksScript: RedisScript = {
  name: 'gafferPruneTasks',
  keys: 2,
  lua: `${FORGET_RECORD}
local finalTasks, retentionKey = KEYS[1], KEYS[2]
local cutoff, maxRecords, maxAgeMs, taskPrefix, batch = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
redis.call('SET', retentionKey, maxAgeMs)
local removed, budget = 0, batch
local function forget(ids)
  if #ids == 0 then return end
  for _, id in ipairs(ids) do
    if forgetRecord(taskPrefix .. id) then removed = removed + 1 end
  end
  redis.call('ZREM', finalTasks, unpack(ids))
  budget = budget - #ids
end
forget(redis.call('ZRANGEBYSCORE', finalTasks, '-inf', '(' .. cutoff, 'LIMIT', 0, budget))
if budget > 0 then
  local excess = redis.call('ZCARD', finalTasks) - maxRecords
  if excess > 0 then forget(redis.call('ZRANGE', finalTasks, 0, math.min(excess, budget) - 1)) end
end
return { removed, budget == 0 and 1 or 0 }
`,
};

/** A century stands for "keep forever": PEXPIRE needs a finite time. */
const LONGEST_TTL_MS = 100 * 365 * 24 * 3600_000;

function finalTtlMs(maxAgeMs: number): number {
  return Number.isFinite(maxAgeMs) ? Math.min(LONGEST_TTL_MS, Math.max(0, Math.ceil(maxAgeMs))) : LONGEST_TTL_MS;
}

/** Records forgotten per step; small enough for unpack() and a short pause of Redis. */
const PRUNE_BATCH = 500;

export async function pruneTasks(client: Redis, keys: StoreKeys, retention: Retention): Promise<number> {
  let removed = 0;
  for (;;) {
    const [deleted, more] = (await runScript(client, pruneTasksScript, [keys.finalTasks, keys.retention], [
      retention.now - retention.maxAgeMs,
      Math.max(0, retention.maxRecords),
      finalTtlMs(retention.maxAgeMs),
      keys.taskPrefix,
      PRUNE_BATCH,
    ])) as [number, number];
    removed += deleted;
    if (more === 0) return removed;
  }
}
