import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { restartDelayMs, retryDelayMs, type BackoffSettings } from '../../src/core/backoff.js';

const BACKOFF: BackoffSettings = { baseMs: 1000, maxMs: 60_000 };

describe('retryDelayMs', () => {
  // failedAttempts → the capped exponential: base × 2^(n-1), at most maxMs.
  const exponentials: Array<[number, number]> = [
    [0, 1000],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 60_000],
    [50, 60_000],
    [5000, 60_000],
  ];

  for (const [failedAttempts, full] of exponentials) {
    test(`after ${failedAttempts} failed attempt(s): random 0 → ${full / 2}, random near 1 → ${full}`, () => {
      assert.equal(retryDelayMs(failedAttempts, BACKOFF, 0), full / 2);
      assert.equal(retryDelayMs(failedAttempts, BACKOFF, 0.9999999), full);
    });
  }

  test('equal jitter: every delay lies within [half, full] of the exponential', () => {
    for (let failedAttempts = 1; failedAttempts <= 10; failedAttempts++) {
      const full = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (failedAttempts - 1));
      for (let step = 0; step < 100; step++) {
        const delay = retryDelayMs(failedAttempts, BACKOFF, step / 100);
        assert.ok(delay >= full / 2 && delay <= full, `attempt ${failedAttempts}, random ${step / 100}: ${delay}`);
      }
    }
  });

  test('the random half scales linearly and the result is a whole number of ms', () => {
    assert.equal(retryDelayMs(3, BACKOFF, 0.5), 3000);
    assert.equal(retryDelayMs(3, BACKOFF, 0.25), 2500);
    assert.equal(retryDelayMs(1, { baseMs: 3, maxMs: 100 }, 0.5), 2);
  });

  test('grows with every attempt for the same random value until the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, BACKOFF, 0.3));
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! >= delays[i - 1]!, `${delays}`);
    assert.equal(delays.at(-1), delays.at(-2));
  });

  // Callers pass Math.random(); anything else must still give a delay in range.
  const badRandoms: Array<[string, number, 'half' | 'full']> = [
    ['negative', -0.5, 'half'],
    ['-Infinity', -Infinity, 'half'],
    ['NaN', Number.NaN, 'half'],
    ['exactly 1', 1, 'full'],
    ['above 1', 7, 'full'],
    ['Infinity', Infinity, 'full'],
  ];
  for (const [label, random, expected] of badRandoms) {
    test(`random ${label} is clamped to the ${expected} delay`, () => {
      assert.equal(retryDelayMs(2, BACKOFF, random), expected === 'half' ? 1000 : 2000);
    });
  }
});

describe('restartDelayMs', () => {
  const rows: Array<[number, number]> = [
    [0, 0],
    [1, 0],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [7, 32_000],
    [8, 60_000],
    [1000, 60_000],
  ];
  for (const [crashStreak, expected] of rows) {
    test(`crash streak ${crashStreak} → ${expected} ms`, () => assert.equal(restartDelayMs(crashStreak, BACKOFF), expected));
  }
});
