import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskFailedError } from '../../src/core/errors.js';
import { startPool } from '../support/pool-harness.js';
import { waitFor } from '../support/temp-data.js';

describe('results and handler failures', async () => {
  const harness = await startPool();
  const { client } = harness;

  test('a task returns its result through handle.result()', async () => {
    const handle = await client.enqueue('add', { a: 2, b: 40 });
    assert.equal(await handle.result({ timeoutMs: 10_000 }), 42);
    const record = await handle.status();
    assert.equal(record.state, 'succeeded');
    assert.ok(record.startedAt! <= record.finishedAt!);
  });

  test('a handler that fails is retried with backoff, then dead-lettered with its message and stack', async () => {
    const handle = await client.enqueue('fail', { message: 'disk on fire' });
    const error = await handle.result({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.code, 'task_failed');
    assert.equal(error.reason.kind, 'failed');
    const record = await handle.status();
    assert.equal(record.state, 'dead');
    assert.equal(record.attempts, 3, 'fail allows 3 attempts');
    const letter = await harness.backend.broker.getDead(handle.id);
    assert.ok(letter);
    assert.equal(letter.reason.kind, 'failed');
    assert.match(letter.reason.kind === 'failed' ? letter.reason.message : '', /disk on fire/);
    assert.match(letter.reason.kind === 'failed' ? (letter.reason.stack ?? '') : '', /at /);
    // The event follows the ack, which commits just after the record the result waited for.
    const runs = () => harness.finished.filter((event) => event.id === handle.id).map((event) => event.state);
    await waitFor(() => runs().length === 3, 'the third attempt to be acked');
    assert.deepEqual(runs(), ['retrying', 'retrying', 'dead']);
  });

  test('a result over maxResultBytes fails with ResultTooLarge, naming its size and the limit; one under it is kept whole', async () => {
    const { client: small } = await startPool({ maxResultBytes: 1000 });
    const under = await small.enqueue('sized', { chars: 900 });
    assert.equal(((await under.result({ timeoutMs: 10_000 })) as string).length, 900);
    const over = await small.enqueue('sized', { chars: 5000 });
    const error = await over.result({ timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof TaskFailedError);
    assert.match(error.message, /the handler's result is 5002 bytes as JSON, over the limit of 1000 bytes \(maxResultBytes, gaffer up --max-result-mb\)/);
    const record = await over.status();
    assert.equal(record.state, 'dead', 'sized allows one attempt');
    assert.equal(record.error?.name, 'ResultTooLarge');
    assert.equal(record.result, undefined, 'nothing of it is stored');
  });

  test('a flaky handler succeeds on a later attempt and reports which one', async () => {
    const handle = await client.enqueue('flaky', { failures: 2 });
    assert.equal(await handle.result({ timeoutMs: 10_000 }), 3);
    assert.equal((await handle.status()).attempts, 2);
  });

  test('a client refuses a payload that fails its schema before anything is enqueued', async () => {
    const typed = new (client.constructor as typeof import('../../src/client/client.js').GafferClient)({
      backend: harness.backend,
      tasks: await import('../fixtures/tasks.js'),
    });
    await assert.rejects(() => typed.enqueue('add', { a: 1, b: 'two' } as never), { code: 'payload_invalid' });
    await assert.rejects(() => typed.enqueue('no-such-type' as never, {} as never), { code: 'unknown_task_type' });
  });
});
