import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RestartGate } from '../../src/runtime/pool/restart-gate.js';

const BACKOFF = { baseMs: 100, maxMs: 1000 };
const STABLE = 5000;

/** A gate that has seen a crash at each of `times`. */
function gateAfterCrashes(...times: number[]): RestartGate {
  const gate = new RestartGate(BACKOFF, STABLE);
  for (const at of times) gate.recordCrash(at);
  return gate;
}

describe('RestartGate', () => {
  test('a fresh gate lets workers start at once', () => {
    const gate = new RestartGate(BACKOFF, STABLE);
    assert.equal(gate.crashStreak, 0);
    assert.equal(gate.waitMs(0), 0);
  });

  test('the first crash costs no wait: a single death is restarted at once', () => {
    const gate = gateAfterCrashes(1000);
    assert.equal(gate.crashStreak, 1);
    assert.equal(gate.waitMs(1000), 0);
  });

  test('each crash in a row doubles the wait from the crash, up to the cap', () => {
    const gate = new RestartGate(BACKOFF, STABLE);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = i * 10_000;
      gate.recordCrash(at);
      waits.push(gate.waitMs(at));
    }
    assert.deepEqual(waits, [0, 100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(gate.crashStreak, 8);
  });

  test('the wait counts down with time and never goes negative', () => {
    const gate = gateAfterCrashes(0, 0, 0);
    assert.equal(gate.waitMs(0), 200);
    assert.equal(gate.waitMs(150), 50);
    assert.equal(gate.waitMs(200), 0);
    assert.equal(gate.waitMs(10_000), 0);
  });

  const resets: Array<{ name: string; startedAt: number; now: number; resets: boolean }> = [
    { name: 'a worker started after the last crash and up for stableUptimeMs ends the streak', startedAt: 2500, now: 2500 + STABLE, resets: true },
    { name: 'a worker started at the instant of the last crash counts as after it', startedAt: 2000, now: 2000 + STABLE, resets: true },
    { name: 'a worker not yet up for stableUptimeMs does not', startedAt: 2500, now: 2500 + STABLE - 1, resets: false },
    { name: 'a worker that started before the last crash does not, however long it is up', startedAt: 1999, now: 100_000, resets: false },
  ];
  for (const row of resets) {
    test(row.name, () => {
      const gate = gateAfterCrashes(1000, 2000);
      gate.noteUptime(row.startedAt, row.now);
      assert.equal(gate.crashStreak, row.resets ? 0 : 2);
      assert.equal(gate.waitMs(2000), row.resets ? 0 : 100);
    });
  }

  test('after a reset the next crash is free again, then the wait starts over from the base', () => {
    const gate = gateAfterCrashes(0, 10, 20, 30);
    gate.noteUptime(100, 100 + STABLE);
    gate.recordCrash(10_000);
    assert.equal(gate.waitMs(10_000), 0);
    gate.recordCrash(10_001);
    assert.equal(gate.waitMs(10_001), 100);
  });

  test('uptime noted without any crash changes nothing', () => {
    const gate = new RestartGate(BACKOFF, STABLE);
    gate.noteUptime(0, 100_000);
    assert.equal(gate.crashStreak, 0);
    assert.equal(gate.waitMs(0), 0);
  });
});
