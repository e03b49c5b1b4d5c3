import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { describeDeadReason, isFinalState, queuedRecordFor, type DeadReason, type TaskState } from '../../src/core/task-record.js';
import type { TaskEnvelope } from '../../src/core/envelope.js';

describe('describeDeadReason', () => {
  const rows: Array<[DeadReason, string]> = [
    [{ kind: 'bad_input', code: 'schema', message: 'n: expected number' }, 'bad input (schema): n: expected number'],
    [{ kind: 'bad_input', code: 'unknown_type', message: 'unknown task type "x"' }, 'bad input (unknown_type): unknown task type "x"'],
    [{ kind: 'failed', message: 'boom', stack: 'Error: boom\n    at x', attempts: 3 }, 'failed after 3 attempt(s): boom'],
    [{ kind: 'timeout', message: 'ran over 500 ms', timeLimitMs: 500, attempts: 1 }, 'timed out after 1 attempt(s): ran over 500 ms'],
    [
      { kind: 'crashed', message: 'killed by SIGKILL', exitCode: null, signal: 'SIGKILL', stderrTail: 'out of memory', deaths: 3 },
      'quarantined after 3 worker death(s): killed by SIGKILL',
    ],
  ];
  for (const [reason, text] of rows) {
    test(`${reason.kind}: "${text}"`, () => assert.equal(describeDeadReason(reason), text));
  }
});

describe('queuedRecordFor', () => {
  const envelope: TaskEnvelope = { id: 'id-1', queue: 'images', type: 'resize', payload: '{"w":1}', enqueuedAt: 1234 };

  test('a fresh record: queued, no attempts, no deaths, no payload', () => {
    assert.deepEqual(queuedRecordFor(envelope), { id: 'id-1', queue: 'images', type: 'resize', state: 'queued', attempts: 0, deaths: 0, enqueuedAt: 1234 });
  });

  test('carries the key and the group when the envelope has them', () => {
    const record = queuedRecordFor({ ...envelope, key: 'customer-7', group: 'batch', race: true, runAt: 9999 });
    assert.equal(record.key, 'customer-7');
    assert.equal(record.group, 'batch');
  });

  test('has no key or group properties at all when the envelope has none', () => {
    const record = queuedRecordFor(envelope);
    assert.equal('key' in record, false);
    assert.equal('group' in record, false);
  });
});

describe('isFinalState', () => {
  const rows: Array<[TaskState, boolean]> = [
    ['queued', false],
    ['running', false],
    ['retrying', false],
    ['succeeded', true],
    ['dead', true],
    ['cancelled', true],
  ];
  for (const [state, final] of rows) test(`${state} is ${final ? '' : 'not '}final`, () => assert.equal(isFinalState(state), final));
});
