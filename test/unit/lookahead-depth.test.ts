import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LOOKAHEAD_BELOW_MS, lookaheadDepth, MAX_LOOKAHEAD } from '../../src/runtime/pool/dispatcher.js';

describe('lookaheadDepth', () => {
  const cases: Array<{ meanMs: number | null; lookaheadMs: number; depth: number; why: string }> = [
    { meanMs: null, lookaheadMs: 5, depth: 0, why: 'no mean yet: nothing is sent ahead' },
    { meanMs: LOOKAHEAD_BELOW_MS, lookaheadMs: 5, depth: 0, why: 'long tasks never wait behind one another' },
    { meanMs: 500, lookaheadMs: 5_000, depth: 0, why: 'long tasks, whatever the budget' },
    { meanMs: 20, lookaheadMs: 5, depth: 1, why: 'short tasks get at least one' },
    { meanMs: 2, lookaheadMs: 5, depth: 2, why: 'enough to cover the budget' },
    { meanMs: 0.5, lookaheadMs: 5, depth: 10, why: 'shorter tasks, more of them' },
    { meanMs: 0.01, lookaheadMs: 5, depth: MAX_LOOKAHEAD, why: 'capped' },
    { meanMs: 0, lookaheadMs: 5, depth: MAX_LOOKAHEAD, why: 'tasks too short to measure: capped' },
    { meanMs: 2, lookaheadMs: 0, depth: 0, why: 'lookahead turned off' },
  ];
  for (const { meanMs, lookaheadMs, depth, why } of cases) {
    test(`mean ${meanMs} ms, budget ${lookaheadMs} ms → ${depth} (${why})`, () => assert.equal(lookaheadDepth(meanMs, lookaheadMs), depth));
  }
});
