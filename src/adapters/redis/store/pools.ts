import type { Redis } from 'ioredis';
import type { PoolSnapshot } from '../../../ports/store.js';
import { execPipeline } from './failures.js';
import type { StoreKeys } from './keys.js';
import { listPoolSnapshots } from './scripts/list-pools.js';

/**
 * The pool registry: each pool's last snapshot under a key that expires when
 * its heartbeat is older than its TTL, so a pool that died without a word
 * disappears by itself; an index set lists them without SCAN.
 */
export class PoolRegistry {
  constructor(
    private readonly client: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async report(snapshot: PoolSnapshot, now: number): Promise<void> {
    const key = this.keys.pool(snapshot.id);
    const remainingMs = Math.ceil(snapshot.heartbeatAt + snapshot.ttlMs - now);
    const pipeline = this.client.multi();
    if (remainingMs > 0) {
      pipeline.set(key, JSON.stringify(snapshot), 'PX', remainingMs).sadd(this.keys.pools, snapshot.id);
    } else {
      // Gone already (a heartbeat reported late): keep it out rather than list it for a moment.
      pipeline.del(key).srem(this.keys.pools, snapshot.id);
    }
    await execPipeline(pipeline);
  }

  async remove(poolId: string): Promise<void> {
    await execPipeline(this.client.multi().del(this.keys.pool(poolId)).srem(this.keys.pools, poolId));
  }

  /** The live pools. The key's TTL decides; the heartbeat is checked too, as Redis may expire a key a moment late. */
  async listLive(now: number): Promise<PoolSnapshot[]> {
    const snapshots = (await listPoolSnapshots(this.client, this.keys)).map((text) => JSON.parse(text) as PoolSnapshot);
    return snapshots.filter((pool) => pool.heartbeatAt + pool.ttlMs >= now).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
