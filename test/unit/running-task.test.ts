import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnyTaskType } from '../../src/core/task-type.js';
import { RunningTask, runTask } from '../../src/runtime/worker/run-task.js';
import { defineTask, z } from '../../src/task.js';

describe("a running task's cancellation (the handler's AbortSignal, made when first asked for)", () => {
  test('a signal taken before the cancel fires, with the reason', () => {
    const running = new RunningTask('t1');
    const { signal } = running;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    running.abort(new Error('the task was cancelled'));
    assert.equal(fired, 1);
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as Error).message, 'the task was cancelled');
    assert.equal(running.aborted, true);
  });

  test('a signal first asked for after the cancel is already aborted', () => {
    const running = new RunningTask('t2');
    running.abort(new Error('the task was cancelled'));
    assert.equal(running.signal.aborted, true);
    assert.equal((running.signal.reason as Error).message, 'the task was cancelled');
  });

  test('a second cancel changes nothing', () => {
    const running = new RunningTask('t3');
    const { signal } = running;
    running.abort(new Error('first'));
    running.abort(new Error('second'));
    assert.equal((signal.reason as Error).message, 'first');
  });

  test('a task nobody cancels has a live signal, always the same one', () => {
    const running = new RunningTask('t4');
    assert.equal(running.aborted, false);
    assert.equal(running.signal.aborted, false);
    assert.equal(running.signal, running.signal);
  });
});

describe('what a handler returns', () => {
  const limits = { maxPayloadBytes: 1024, maxResultBytes: 16 };
  const run = (result: unknown) => {
    const type = defineTask({ name: 'returns', schema: z.null(), handler: () => result as null });
    const task = { id: 'r1', type: 'returns', queue: 'default', payload: 'null', attempt: 1 };
    return runTask(task, new Map([['returns', type as AnyTaskType]]), limits, new RunningTask('r1'), () => {});
  };

  test('a JSON value within the limit is the result; undefined is null', async () => {
    assert.deepEqual(await run({ a: [1, 'é'] }), { kind: 'succeeded', result: { a: [1, 'é'] } });
    assert.deepEqual(await run(undefined), { kind: 'succeeded', result: null });
  });

  test('what JSON cannot hold, or more bytes than the limit (counted in UTF-8), fails and says why', async () => {
    const failure = async (result: unknown) => {
      const outcome = await run(result);
      assert.equal(outcome.kind, 'failed');
      return outcome.kind === 'failed' ? `${outcome.error.name}: ${outcome.error.message}` : '';
    };
    assert.match(await failure(() => 1), /^ResultNotSerializable: .*: it is a function$/);
    assert.match(await failure(10n), /^ResultNotSerializable: .*BigInt/);
    assert.equal((await run('é'.repeat(7))).kind, 'succeeded', '16 bytes: at the limit is within it');
    assert.match(await failure('é'.repeat(8)), /^ResultTooLarge: the handler's result is 18 bytes as JSON, over the limit of 16 bytes/);
  });
});
