import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { percentiles, TaskStatsWindow } from '../../src/runtime/pool/task-stats-window.js';

describe('TaskStatsWindow', () => {
  test('reports the last minute only: outcomes, rate and percentiles', () => {
    const window = new TaskStatsWindow();
    const now = 1_000_000;
    window.record({ at: now - 90_000, state: 'dead', runMs: 999, waitMs: 999 });
    for (let i = 1; i <= 20; i++) window.record({ at: now - 20_000 + i * 1000, state: 'succeeded', runMs: i, waitMs: 2 * i });
    window.record({ at: now - 500, state: 'retrying', runMs: 100, waitMs: undefined });
    const stats = window.snapshot(now, 3);
    assert.deepEqual(stats.outcomes, { succeeded: 20, retrying: 1 });
    assert.equal(stats.arrivalsPerSecond, 3);
    assert.equal(stats.completedPerSecond, 20 / 19);
    assert.deepEqual(stats.runMs, { p50: 11, p95: 20 });
    assert.deepEqual(stats.waitMs, { p50: 20, p95: 38 });
  });

  test('keeps the newest 5000 samples when tasks finish faster than that per minute', () => {
    const window = new TaskStatsWindow();
    const now = 2_000_000;
    for (let i = 0; i < 12_000; i++) window.record({ at: now - 1000 + i / 100, state: i < 7000 ? 'dead' : 'succeeded', runMs: i, waitMs: undefined });
    const stats = window.snapshot(now, 0);
    assert.deepEqual(stats.outcomes, { succeeded: 5000 });
    assert.equal(stats.runMs?.p50, 9499);
    assert.equal(stats.waitMs, null);
  });

  test('an empty window reports nothing', () => {
    const stats = new TaskStatsWindow().snapshot(5000, 0);
    assert.deepEqual(stats.outcomes, {});
    assert.equal(stats.completedPerSecond, 0);
    assert.equal(stats.runMs, null);
  });

  test('percentiles pick ranks, not interpolations', () => {
    assert.equal(percentiles([]), null);
    assert.deepEqual(percentiles([7]), { p50: 7, p95: 7 });
    assert.deepEqual(percentiles([5, 1, 4, 2, 3]), { p50: 3, p95: 5 });
  });

  test('percentiles select the ranks a full sort would give, duplicates and all', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const n of [2, 3, 10, 19, 20, 21, 100, 999, 5000]) {
      for (const spread of [3, 1000]) {
        const values = Array.from({ length: n }, () => Math.floor(random() * spread));
        const sorted = [...values].sort((a, b) => a - b);
        const rank = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)];
        assert.deepEqual(percentiles(values), { p50: rank(0.5), p95: rank(0.95) }, `${n} values in [0, ${spread})`);
      }
    }
    assert.deepEqual(percentiles(Array.from({ length: 5000 }, (_, i) => 5000 - i)), { p50: 2500, p95: 4750 });
  });
});
