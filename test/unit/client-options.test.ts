import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, GafferError } from '../../src/index.js';
import { assertClientOptions } from '../../src/client/client-options.js';

describe('createClient options', () => {
  test('a misspelt or mistyped option is a config_invalid error that names it, before anything is opened', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ task: {} }, /Unrecognized key: "task"/],
      [{ connectTimeoutMs: 0 }, /connectTimeoutMs: Too small/],
      [{ data: 42 }, /data: Invalid input: expected string/],
      [{ backend: 'redis://x' }, /backend: Invalid input: expected object/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => createClient(options as Parameters<typeof createClient>[0]),
        (error: unknown) => error instanceof GafferError && error.code === 'config_invalid' && message.test(error.message),
        JSON.stringify(options),
      );
    }
  });

  test('every documented option, and none at all, passes', () => {
    assert.doesNotThrow(() => assertClientOptions({}));
    assert.doesNotThrow(() =>
      assertClientOptions({
        tasks: [],
        data: './.gaffer',
        broker: 'amqp://localhost',
        store: 'redis://localhost',
        redisPrefix: 'app:',
        backend: { broker: {}, store: {}, ready: async () => {} },
        connectTimeoutMs: 5000,
        queue: 'default',
        maxPayloadBytes: 1024,
      }),
    );
    assert.doesNotThrow(() => assertClientOptions({ data: undefined, queue: undefined }), 'an option left undefined is no option');
  });
});
