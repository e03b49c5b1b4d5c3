import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parsePoolSettings, resolveTaskSettings, type PoolSettingsInput, type ResolvedTaskSettings } from '../../src/core/pool-settings.js';
import { ConfigError } from '../../src/core/errors.js';
import type { TaskTypeSettings } from '../../src/core/task-type.js';

describe('parsePoolSettings', () => {
  test('fills every default, with max = the cores', () => {
    assert.deepEqual(parsePoolSettings({}, 8), {
      queue: 'default',
      min: 0,
      max: 8,
      cores: 8,
      targetWaitMs: 1000,
      scaleDownWindowMs: 10_000,
      maxTasksPerWorker: 0,
      lookaheadMs: 15,
      idleExitMs: 0,
      memoryLimitMb: 0,
      taskDefaults: { timeLimitMs: 600_000, maxAttempts: 3, maxCrashes: 3, backoff: { baseMs: 1000, maxMs: 60_000 } },
      restartBackoff: { baseMs: 500, maxMs: 30_000 },
      stableUptimeMs: 30_000,
      cancelGraceMs: 100,
      drainGraceMs: 30_000,
      leaseMs: 30_000,
      maxPayloadBytes: 1024 * 1024,
      maxResultBytes: 16 * 1024 * 1024,
      tickMs: 100,
    });
  });

  test('a machine that reports no cores still gets one worker', () => {
    assert.equal(parsePoolSettings({}, 0).max, 1);
  });

  test('an explicit max wins over the cores, which are kept for the policy', () => {
    const settings = parsePoolSettings({ max: 32, min: 2 }, 4);
    assert.equal(settings.max, 32);
    assert.equal(settings.min, 2);
    assert.equal(settings.cores, 4);
  });

  test('partial nested settings keep the other nested defaults', () => {
    const settings = parsePoolSettings({ taskDefaults: { maxAttempts: 7, backoff: { maxMs: 5000 } }, restartBackoff: { baseMs: 50 } }, 2);
    assert.deepEqual(settings.taskDefaults, { timeLimitMs: 600_000, maxAttempts: 7, maxCrashes: 3, backoff: { baseMs: 1000, maxMs: 5000 } });
    assert.deepEqual(settings.restartBackoff, { baseMs: 50, maxMs: 30_000 });
  });

  test('min equal to max is allowed', () => {
    assert.equal(parsePoolSettings({ min: 4, max: 4 }, 8).min, 4);
  });

  const refused: Array<[string, PoolSettingsInput | Record<string, unknown>, number, RegExp]> = [
    ['min above an explicit max', { min: 5, max: 2 }, 8, /^min \(5\) is above max \(2\); lower --min or raise --max$/],
    ['min above the cores when max is left to default', { min: 16 }, 8, /^min \(16\) is above max \(8\); lower --min or raise --max$/],
    ['a retry backoff base above its max', { taskDefaults: { backoff: { baseMs: 5000, maxMs: 1000 } } }, 8, /retry backoff base is above its max; lower the base or raise the max/],
    ['an unknown key', { workers: 4 }, 8, /invalid pool settings:[\s\S]*workers/],
    ['an unknown nested key', { taskDefaults: { retries: 2 } }, 8, /retries/],
    ['a bad queue name', { queue: 'my queue' }, 8, /queue/],
    ['a negative min', { min: -1 }, 8, /min/],
    ['max 0', { max: 0 }, 8, /max/],
    ['a fractional targetWaitMs', { targetWaitMs: 2.5 }, 8, /targetWaitMs/],
    ['a lease shorter than 500 ms', { leaseMs: 100 }, 8, /leaseMs/],
    ['a tick above 5 s', { tickMs: 10_000 }, 8, /tickMs/],
    ['a tick below 10 ms', { tickMs: 1 }, 8, /tickMs/],
  ];
  for (const [label, input, cores, message] of refused) {
    test(`refuses ${label} with config_invalid`, () => {
      assert.throws(() => parsePoolSettings(input as PoolSettingsInput, cores), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'config_invalid');
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('resolveTaskSettings', () => {
  const defaults: ResolvedTaskSettings = { timeLimitMs: 60_000, maxAttempts: 3, maxCrashes: 2, backoff: { baseMs: 1000, maxMs: 30_000 } };

  const rows: Array<[string, TaskTypeSettings, ResolvedTaskSettings]> = [
    ['no settings of its own: the defaults', {}, defaults],
    ['all of its own settings', { timeLimitMs: 5, maxAttempts: 9, maxCrashes: 1, backoff: { baseMs: 10, maxMs: 20 } }, { timeLimitMs: 5, maxAttempts: 9, maxCrashes: 1, backoff: { baseMs: 10, maxMs: 20 } }],
    ['some: the rest from the defaults', { maxAttempts: 1 }, { ...defaults, maxAttempts: 1 }],
    ['half a backoff: merged field by field', { backoff: { maxMs: 5000 } }, { ...defaults, backoff: { baseMs: 1000, maxMs: 5000 } }],
    ['settings present but undefined: the defaults', { timeLimitMs: undefined, maxAttempts: undefined }, defaults],
    // The type allows it, defineTask keeps it (zod preserves explicit undefined keys), and the scalar fields above handle it.
    ['a backoff field present but undefined: the default for that field', { backoff: { baseMs: undefined, maxMs: 5000 } }, { ...defaults, backoff: { baseMs: 1000, maxMs: 5000 } }],
  ];
  for (const [label, own, expected] of rows) {
    test(label, () => assert.deepEqual(resolveTaskSettings(own, defaults), expected));
  }

  test('does not share the defaults backoff object, so a task cannot change another task', () => {
    const resolved = resolveTaskSettings({}, defaults);
    assert.notEqual(resolved.backoff, defaults.backoff);
  });
});
