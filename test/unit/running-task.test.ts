import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunningTask } from '../../src/runtime/worker/run-task.js';

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
