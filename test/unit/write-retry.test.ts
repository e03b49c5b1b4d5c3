import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RepeatedFailureLog } from '../../src/runtime/pool/repeated-failure-log.js';
import { WriteRetry } from '../../src/runtime/pool/write-retry.js';
import { recordingLogger } from '../support/recording-logger.js';

/** A write that fails `failures` times, then returns how many attempts it took. */
function failingWrite(failures: number) {
  let attempts = 0;
  return async () => {
    attempts++;
    if (attempts <= failures) throw new Error(`disk full (attempt ${attempts})`);
    return attempts;
  };
}

test('a write that fails is tried again until it lands; the failure is logged once, and the recovery once', async () => {
  const { logger, lines } = recordingLogger();
  const retry = new WriteRetry(logger, [1, 2]);
  const [first, second] = await Promise.all([retry.untilWritten(failingWrite(3)), retry.untilWritten(failingWrite(2))]);
  assert.equal(first, 4);
  assert.equal(second, 3);
  assert.equal(retry.pending, 0);
  assert.deepEqual(
    lines.map((line) => line.level),
    ['error', 'info'],
    'one report for five failures of two writes, one line when all landed',
  );
  assert.match(lines[0]!.message, /could not record what became of a task; retrying/);
  assert.equal((lines[0]!.fields.err as Error).message, 'disk full (attempt 1)');
  assert.match(lines[1]!.message, /recorded every task outcome that had to wait/);
});

test('closing ends the waiting at once: each waiting write fails with its last error', async () => {
  const { logger } = recordingLogger();
  const retry = new WriteRetry(logger, [60_000]);
  const waiting = retry.untilWritten(failingWrite(Number.POSITIVE_INFINITY));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(retry.pending, 1);
  const closedAt = performance.now();
  retry.close();
  await assert.rejects(waiting, /disk full \(attempt 1\)/);
  assert.ok(performance.now() - closedAt < 1000, 'not after the minute-long delay');
  assert.equal(retry.pending, 0);
  await assert.rejects(retry.untilWritten(failingWrite(1)), /attempt 1/, 'once closed, a failing write is not tried again');
});

test('a failure that repeats is logged when it starts, then at most once a period with how often it happened, and once when it stops', async () => {
  const { logger, lines } = recordingLogger();
  const log = new RepeatedFailureLog(logger, { failed: 'claims fail', recovered: 'claims work again' }, 50);
  for (let n = 0; n < 5; n++) log.failed(new Error('full'));
  assert.equal(lines.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 60));
  log.failed(new Error('still full'));
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.fields.timesSinceLastReport, 4);
  log.succeeded();
  log.succeeded();
  assert.deepEqual(
    lines.map((line) => `${line.level} ${line.message}`),
    ['error claims fail', 'error claims fail', 'info claims work again'],
  );
  log.failed(new Error('full again'));
  assert.equal(lines.length, 4, 'a new outage is reported at once');
});
