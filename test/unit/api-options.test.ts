import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createClient, GafferError, openBackend, PoolManager } from '../../src/index.js';
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

describe('PoolManager options', () => {
  test('a client-style backend, a misspelt key or a missing task module path is a config_invalid error before any worker starts', () => {
    const broker = {} as never;
    const store = {} as never;
    const cases: Array<[unknown, RegExp]> = [
      [{ tasks: './tasks.js', backend: { broker, store } }, /broker: Invalid input: expected object, received undefined.*Unrecognized key: "backend"; pass the broker and store of openBackend\(\)/],
      [{ tasks: './tasks.js', broker, store, setting: { max: 2 } }, /Unrecognized key: "setting"/],
      [{ tasks: '', broker, store }, /tasks: the path to your task module/],
      [{ tasks: { resize: {} }, broker, store }, /tasks: the path to your compiled task module, which the workers load \(not the module itself\)/],
      [{ tasks: './tasks.js', broker, store, cores: 0 }, /cores: Too small: expected number to be >0$/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new PoolManager(options as ConstructorParameters<typeof PoolManager>[0]),
        (error: unknown) => error instanceof GafferError && error.code === 'config_invalid' && message.test(error.message),
        JSON.stringify(Object.keys(options as object)),
      );
    }
  });
});

describe('openBackend options', () => {
  test('a misspelt option or an unknown queue type is a config_invalid error, before any file or connection is opened', () => {
    for (const [options, message] of [
      [{ date: '/tmp/x' }, /invalid openBackend options: Unrecognized key: "date"/],
      [{ queueType: 'stream' }, /queueType: Invalid option: expected one of "quorum"\|"classic"/],
    ] as const) {
      assert.throws(
        () => openBackend(options as unknown as Parameters<typeof openBackend>[0]),
        (error: unknown) => error instanceof GafferError && error.code === 'config_invalid' && message.test(error.message),
      );
    }
  });
});
