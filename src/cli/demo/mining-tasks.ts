/**
 * The task module of `gaffer demo`: one task type that searches a range of
 * nonces. It hashes in slices and yields between them, so a cancel (another
 * range won the race) stops it within a few milliseconds.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { defineTask } from '../../core/task-type.js';
import { hashWithNonce, leadingZeroBits } from './proof-of-work.js';

const SLICE = 2048;

export const mineRange = defineTask({
  name: 'mine-range',
  schema: z.object({
    header: z.string(),
    difficulty: z.number().int().min(1).max(64),
    start: z.number().int().min(0),
    count: z.number().int().positive(),
  }),
  timeLimitMs: 120_000,
  maxAttempts: 2,
  handler: async ({ header, difficulty, start, count }, ctx) => {
    const end = start + count;
    for (let nonce = start; nonce < end; ) {
      const sliceEnd = Math.min(end, nonce + SLICE);
      for (; nonce < sliceEnd; nonce++) {
        const hash = hashWithNonce(header, nonce);
        if (leadingZeroBits(hash) >= difficulty) {
          ctx.progress({ hashes: nonce - start + 1 });
          return { nonce, hash: hash.toString('hex') };
        }
      }
      ctx.progress({ hashes: nonce - start });
      await yieldToEventLoop();
      if (ctx.signal.aborted) return null;
    }
    return null;
  },
});
