import { RaceLostError } from '../../core/errors.js';
import type { GafferClient } from '../../client/client.js';
import type { TaskMapOf } from '../../client/task-map.js';
import type * as miningTasks from './mining-tasks.js';
import { blockHeader, splitNonces } from './proof-of-work.js';

export type MiningClient = GafferClient<TaskMapOf<typeof miningTasks>>;

export interface MinedBlock {
  index: number;
  nonce: number;
  hash: string;
  ms: number;
  ranges: number;
}

export interface MiningPlan {
  blocks: number;
  difficulty: number;
  onBlock(block: MinedBlock): void;
  onBatch(index: number, ranges: number): void;
}

/** Hashes per range: about 2^-5 of the expected work, so a block is ~32 ranges on average. */
export function rangeSizeFor(difficulty: number): number {
  return 2 ** Math.min(16, Math.max(10, difficulty - 5));
}

/**
 * Mines a chain of blocks. Each block's nonce space is split into ranges and
 * enqueued as one race group (four times the expected work); the first range
 * that finds a nonce wins and the others are cancelled. If none finds one,
 * the next stretch of nonces follows.
 */
export async function mineBlocks(client: MiningClient, plan: MiningPlan): Promise<MinedBlock[]> {
  const size = rangeSizeFor(plan.difficulty);
  const perBatch = Math.max(8, Math.ceil((4 * 2 ** plan.difficulty) / size));
  const chain: MinedBlock[] = [];
  let previous = '0'.repeat(64);
  for (let index = 1; index <= plan.blocks; index++) {
    const header = blockHeader(index, previous, `gaffer demo block ${index}`);
    const startedAt = Date.now();
    let from = 0;
    let enqueued = 0;
    for (;;) {
      const ranges = splitNonces(from, perBatch, size);
      enqueued += ranges.length;
      plan.onBatch(index, ranges.length);
      try {
        const winner = await client.race(
          ranges.map((range) => ({ type: 'mine-range' as const, payload: { header, difficulty: plan.difficulty, ...range } })),
        );
        const found = winner.result as { nonce: number; hash: string };
        const block = { index, nonce: found.nonce, hash: found.hash, ms: Date.now() - startedAt, ranges: enqueued };
        chain.push(block);
        plan.onBlock(block);
        previous = found.hash;
        break;
      } catch (error) {
        if (!(error instanceof RaceLostError)) throw error;
        from += perBatch * size;
      }
    }
  }
  return chain;
}
