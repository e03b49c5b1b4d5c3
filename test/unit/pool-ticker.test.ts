import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { PoolTicker } from '../../src/runtime/pool/pool-ticker.js';

function ticker(quiet: () => boolean, tickMs = 20, quietMs = 400) {
  const ticks: number[] = [];
  const start = performance.now();
  const pool = new PoolTicker({ tickMs, quietMs, quiet, tick: async () => void ticks.push(performance.now() - start) });
  pool.start();
  return { pool, ticks };
}

test('a pool with something to watch ticks every tickMs', async () => {
  const { pool, ticks } = ticker(() => false);
  await sleep(210);
  pool.stop();
  assert.ok(ticks.length >= 5 && ticks.length <= 11, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
});

test('a quiet pool ticks every quietMs, not every tickMs', async () => {
  const { pool, ticks } = ticker(() => true);
  await sleep(600);
  pool.stop();
  // The first tick comes after tickMs; from then on, the pool is quiet.
  assert.equal(ticks.length, 2, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
  assert.ok(ticks[1]! - ticks[0]! >= 395, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
});

test('news brings the next tick of a quiet pool within tickMs, and ticks go back to quietMs after it', async () => {
  let quiet = true;
  const { pool, ticks } = ticker(() => quiet);
  await sleep(100);
  assert.equal(ticks.length, 1);
  quiet = false;
  const hurriedAt = ticks.length;
  pool.hurry();
  await sleep(70);
  assert.ok(ticks.length >= hurriedAt + 2, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
  quiet = true;
  await sleep(100);
  const settled = ticks.length;
  await sleep(250);
  pool.stop();
  assert.equal(ticks.length, settled, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
});

test('hurry never delays a tick that is due sooner, and a stopped ticker stays stopped', async () => {
  const { pool, ticks } = ticker(() => false, 50);
  await sleep(30);
  pool.hurry();
  await sleep(60);
  assert.equal(ticks.length, 1, 'the tick due at 50 ms came at its time, and the next is not due before 100 ms');
  pool.stop();
  pool.hurry();
  await sleep(120);
  assert.equal(ticks.length, 1);
});

test('a quiet pool sets no tickMs timer between its ticks: a timer set and moved on would still wake the process', async () => {
  const delays: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((callback: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return realSetTimeout(callback, ms);
  }) as typeof setTimeout;
  try {
    const { pool, ticks } = ticker(() => true, 20, 100);
    await sleep(370);
    pool.stop();
    assert.ok(ticks.length >= 3, `ticked at ${ticks.map(Math.round).join(', ')} ms`);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  // The first tick comes tickMs after the start, and finds the pool quiet; from then on, every tick is set quietMs away.
  const ticker20 = delays.filter((ms) => ms === 20 || ms === 100);
  assert.deepEqual(ticker20.slice(0, 2), [20, 20], 'the start, and the first tick before it knew the pool was quiet');
  assert.ok(ticker20.slice(2).every((ms) => ms === 100), `timers set: ${ticker20.join(', ')} ms`);
});
