import type { Redis } from 'ioredis';
import type { PoolLimits } from '../../../ports/store.js';
import type { StoreKeys } from './keys.js';

/** Run-time controls set through the API or the dashboard: paused queues, pool limits. */
export class Controls {
  constructor(
    private readonly client: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async setQueuePaused(queue: string, paused: boolean): Promise<void> {
    if (paused) await this.client.sadd(this.keys.pausedQueues, queue);
    else await this.client.srem(this.keys.pausedQueues, queue);
  }

  async pausedQueues(): Promise<string[]> {
    return (await this.client.smembers(this.keys.pausedQueues)).sort();
  }

  async setPoolLimits(poolId: string, limits: PoolLimits | null): Promise<void> {
    if (limits) await this.client.hset(this.keys.poolLimits, poolId, JSON.stringify({ min: limits.min, max: limits.max }));
    else await this.client.hdel(this.keys.poolLimits, poolId);
  }

  async poolLimits(poolId: string): Promise<PoolLimits | undefined> {
    const value = await this.client.hget(this.keys.poolLimits, poolId);
    return value === null ? undefined : (JSON.parse(value) as PoolLimits);
  }
}
