import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalMeter, RecentMean } from '../../src/runtime/pool/load-meters.js';

const WINDOW = 1000;
const TICK = 100;

/** Feeds `meter` one observation per tick in [from, to); `total(now)` is the counter at that time. Returns the rates. */
function feed(meter: ArrivalMeter, from: number, to: number, total: (now: number) => number): Map<number, number> {
  const rates = new Map<number, number>();
  for (let now = from; now < to; now += TICK) rates.set(now, meter.observe(total(now), now));
  return rates;
}

describe('ArrivalMeter', () => {
  test('the first observation has nothing to compare with: rate 0', () => {
    assert.equal(new ArrivalMeter(WINDOW).observe(500, 0), 0);
  });

  test('a steady 1 per tick reads 10/s once a full window has passed', () => {
    const meter = new ArrivalMeter(WINDOW);
    const rates = feed(meter, 0, 5 * WINDOW, (now) => now / TICK);
    for (const [now, rate] of rates) if (now >= WINDOW) assert.equal(rate, 10, `at ${now} ms`);
  });

  test('averages over the whole window while it fills up, so a first spike is not overstated', () => {
    const meter = new ArrivalMeter(WINDOW);
    meter.observe(0, 0);
    assert.equal(meter.observe(5, 500), 5);
  });

  test('only the last window counts: an old burst does not inflate the rate', () => {
    const meter = new ArrivalMeter(WINDOW);
    const rates = feed(meter, 0, 4 * WINDOW, (now) => (now === 0 ? 0 : 1000 + Math.floor(now / TICK)));
    assert.equal(rates.get(3 * WINDOW), 10);
  });

  test('falls to 0 one window after the last arrival, and not before', () => {
    const lastArrivalAt = 2000;
    const meter = new ArrivalMeter(WINDOW);
    const rates = feed(meter, 0, lastArrivalAt + 3 * WINDOW, (now) => Math.min(now, lastArrivalAt) / TICK);
    for (const [now, rate] of rates) {
      if (now > TICK && now < lastArrivalAt + WINDOW) assert.ok(rate > 0, `at ${now} ms the rate is ${rate}`);
      if (now >= lastArrivalAt + WINDOW) assert.equal(rate, 0, `at ${now} ms`);
    }
  });

  test('falls to 0 even when observed rarely', () => {
    const meter = new ArrivalMeter(WINDOW);
    meter.observe(0, 0);
    meter.observe(50, 500);
    assert.equal(meter.observe(50, 500 + 10 * WINDOW), 0);
  });

  test('a counter that goes back (a restarted broker) starts over instead of reading negative', () => {
    const meter = new ArrivalMeter(WINDOW);
    feed(meter, 0, 2 * WINDOW, (now) => 1000 + now / TICK);
    assert.equal(meter.observe(3, 2 * WINDOW), 0);
    assert.equal(meter.observe(13, 2 * WINDOW + WINDOW), 10);
  });
});

describe('RecentMean', () => {
  test('has no mean before any task finished', () => {
    assert.equal(new RecentMean().mean(), null);
  });

  test('is the mean of what it recorded while not full', () => {
    const meter = new RecentMean(5);
    for (const ms of [10, 20, 60]) meter.record(ms);
    assert.equal(meter.mean(), 30);
  });

  test('keeps only the last N samples, replacing the oldest first', () => {
    const meter = new RecentMean(3);
    const means: Array<number | null> = [];
    for (const ms of [1, 2, 3, 4, 5, 100, 100, 100]) {
      meter.record(ms);
      means.push(meter.mean());
    }
    assert.deepEqual(means, [1, 1.5, 2, 3, 4, 109 / 3, 205 / 3, 100]);
  });

  test('defaults to the last 100 samples', () => {
    const meter = new RecentMean();
    for (let i = 0; i < 100; i++) meter.record(1000);
    for (let i = 0; i < 100; i++) meter.record(10);
    assert.equal(meter.mean(), 10);
  });

  test('stays exact over many wraps of the ring', () => {
    const meter = new RecentMean(4);
    for (let i = 0; i < 10_003; i++) meter.record(i % 7);
    const last = [9999, 10_000, 10_001, 10_002].map((i) => i % 7);
    assert.equal(meter.mean(), last.reduce((a, b) => a + b) / 4);
  });
});
