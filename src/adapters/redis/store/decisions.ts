import type { Redis } from 'ioredis';
import type { DecisionRecord } from '../../../ports/store.js';
import type { StoreKeys } from './keys.js';
import { recordDecision } from './scripts/record-decision.js';

/** Decisions kept, in the log of all pools and in each pool's own. */
export const DECISIONS_KEPT = 1000;

/** The capped decision logs, newest first. */
export class DecisionLog {
  constructor(
    private readonly client: Redis,
    private readonly keys: StoreKeys,
  ) {}

  async record(decision: DecisionRecord): Promise<void> {
    await recordDecision(this.client, this.keys, decision.poolId, JSON.stringify(decision), DECISIONS_KEPT);
  }

  async list(filter: { limit: number; poolId?: string }): Promise<DecisionRecord[]> {
    const limit = Math.floor(filter.limit);
    if (!(limit > 0)) return [];
    const key = filter.poolId === undefined ? this.keys.decisions : this.keys.poolDecisions(filter.poolId);
    return (await this.client.lrange(key, 0, limit - 1)).map((text) => JSON.parse(text) as DecisionRecord);
  }
}
