import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  assertQueueName,
  decodePayload,
  encodePayload,
  parseEnqueueOptions,
  unknownType,
  validatePayload,
  DEFAULT_MAX_PAYLOAD_BYTES,
} from '../../src/core/envelope.js';
import { EnqueueOptionsError, GafferError, PayloadInvalidError, PayloadTooLargeError } from '../../src/core/errors.js';
import { defineTask } from '../../src/core/task-type.js';

const LIMIT = DEFAULT_MAX_PAYLOAD_BYTES;

function circular(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Asserts that `fn` throws an instance of `type` with the given stable code. */
function assertThrowsCode(fn: () => unknown, type: new (...args: never[]) => GafferError, code: string, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('encodePayload', () => {
  const valid: Array<[string, unknown, string]> = [
    ['an object', { a: 1, b: [true, null, 'x'] }, '{"a":1,"b":[true,null,"x"]}'],
    ['an array', [1, 2], '[1,2]'],
    ['a string', 'hi', '"hi"'],
    ['a number', 4.5, '4.5'],
    ['a boolean', false, 'false'],
    ['null', null, 'null'],
    ['non-ASCII text', { name: 'Zoë 🚀' }, '{"name":"Zoë 🚀"}'],
  ];
  for (const [label, value, text] of valid) {
    test(`encodes ${label} as JSON`, () => assert.equal(encodePayload(value, LIMIT), text));
  }

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a BigInt', { n: 10n }, /cannot be serialized as JSON: .*BigInt/i],
    ['a circular structure', circular(), /cannot be serialized as JSON: .*circular/i],
    ['undefined', undefined, /pass an object, array, string, number, boolean or null/],
    ['a function', () => 1, /pass an object, array, string, number, boolean or null/],
    ['a symbol', Symbol('s'), /pass an object, array, string, number, boolean or null/],
  ];
  for (const [label, value, message] of invalid) {
    test(`refuses ${label} with payload_invalid`, () => {
      assertThrowsCode(() => encodePayload(value, LIMIT), PayloadInvalidError, 'payload_invalid', message);
    });
  }

  test('accepts a payload of exactly the limit', () => {
    assert.equal(encodePayload('abcd', 6), '"abcd"');
  });

  test('refuses one byte over the limit with payload_too_large, saying what to do', () => {
    assertThrowsCode(() => encodePayload('abcde', 6), PayloadTooLargeError, 'payload_too_large', /7 bytes, over the limit of 6 bytes; send a reference/);
  });

  test('counts UTF-8 bytes, not UTF-16 code units', () => {
    // '"éé"' is 4 characters but 6 bytes.
    assert.equal(encodePayload('éé', 6), '"éé"');
    assert.throws(() => encodePayload('éé', 5), (error: unknown) => {
      assert.ok(error instanceof PayloadTooLargeError);
      assert.equal(error.bytes, 6);
      assert.equal(error.limit, 5);
      return true;
    });
  });
});

describe('decodePayload', () => {
  test('parses JSON', () => {
    assert.deepEqual(decodePayload('{"a":[1,"x"]}', LIMIT), { ok: true, value: { a: [1, 'x'] } });
  });

  for (const raw of ['{a:1}', '', 'undefined', '{"a":1', "'x'"]) {
    test(`reports ${JSON.stringify(raw)} as not_json`, () => {
      const result = decodePayload(raw, LIMIT);
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.code, 'not_json');
      assert.match(result.message, /^payload is not JSON: /);
    });
  }

  test('reports oversize in UTF-8 bytes before trying to parse', () => {
    // Not JSON either, but the size is checked first: no parsing of huge inputs.
    assert.deepEqual(decodePayload('"é', 2), { ok: false, code: 'oversize', message: 'payload is 3 bytes, over the limit of 2 bytes' });
    assert.deepEqual(decodePayload('"é"', 4), { ok: true, value: 'é' });
  });
});

describe('validatePayload', () => {
  const resize = defineTask({
    name: 'resize',
    schema: z.object({ image: z.object({ width: z.number().int() }), scale: z.number().default(1) }),
    handler: () => null,
  });

  test('returns the parsed value, with schema defaults applied', () => {
    assert.deepEqual(validatePayload(resize, { image: { width: 3 } }), { ok: true, value: { image: { width: 3 }, scale: 1 } });
  });

  test('names the task type and the path of the offending field', () => {
    const result = validatePayload(resize, { image: { width: 'wide' } });
    assert.ok(!result.ok);
    assert.equal(result.code, 'schema');
    assert.match(result.message, /^payload does not match the schema of "resize": image\.width: /);
  });

  test('an issue at the root has no path prefix', () => {
    const result = validatePayload(resize, 'not an object');
    assert.ok(!result.ok);
    // zod's own message follows the type name directly, with no "path: " in front.
    assert.match(result.message, /"resize": Invalid input: expected object/);
  });

  test('lists at most five issues', () => {
    const wide = defineTask({
      name: 'wide',
      schema: z.object(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((key) => [key, z.number()]))),
      handler: () => null,
    });
    const result = validatePayload(wide, {});
    assert.ok(!result.ok);
    assert.equal(result.message.split('; ').length, 5);
  });
});

describe('unknownType', () => {
  test('lists the known types', () => {
    assert.deepEqual(unknownType('resise', ['resize', 'crop']), {
      ok: false,
      code: 'unknown_type',
      message: 'unknown task type "resise"; the task module defines: resize, crop',
    });
  });

  test('says (none) when the module defines nothing', () => {
    assert.match(unknownType('x', new Set()).message, /defines: \(none\)$/);
  });
});

describe('parseEnqueueOptions', () => {
  test('accepts every option', () => {
    const options = { queue: 'images.v2', id: 'order-42:resize', key: 'customer 7', group: 'batch-1', delayMs: 500 };
    assert.deepEqual(parseEnqueueOptions(options), options);
  });

  test('treats undefined and null as no options', () => {
    assert.deepEqual(parseEnqueueOptions(undefined), {});
    assert.deepEqual(parseEnqueueOptions(null), {});
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['an unknown key', { queue: 'a', priority: 1 }, /priority/],
    ['an empty queue name', { queue: '' }, /queue/],
    ['a queue name starting with a dot', { queue: '.hidden' }, /queue/],
    ['a queue name with a space', { queue: 'my queue' }, /queue/],
    ['a queue name with a slash', { queue: 'a/b' }, /queue/],
    ['a queue name of 129 characters', { queue: 'q'.repeat(129) }, /queue/],
    ['a negative delay', { delayMs: -1 }, /delayMs/],
    ['a fractional delay', { delayMs: 1.5 }, /delayMs/],
    ['a delay over a year', { delayMs: 366 * 24 * 3600 * 1000 }, /delayMs/],
    ['an id with spaces', { id: 'my id' }, /id[\s\S]*without spaces/],
    ['an empty id', { id: '' }, /id/],
    ['an id of 201 characters', { id: 'x'.repeat(201) }, /id/],
    ['a non-ASCII id', { id: 'café' }, /id/],
    ['a group with a tab', { group: 'a\tb' }, /group/],
    ['an empty key', { key: '' }, /key/],
    ['options that are not an object', 'default', /invalid enqueue options/],
  ];
  for (const [label, options, message] of invalid) {
    test(`refuses ${label} with enqueue_options_invalid`, () => {
      assertThrowsCode(() => parseEnqueueOptions(options), EnqueueOptionsError, 'enqueue_options_invalid', message);
    });
  }

  test('accepts a queue name of 128 characters and a delay of 0', () => {
    const queue = 'q'.repeat(128);
    assert.deepEqual(parseEnqueueOptions({ queue, delayMs: 0 }), { queue, delayMs: 0 });
  });
});

describe('assertQueueName', () => {
  for (const name of ['default', 'a', '9lives', 'images.v2', 'team:render_hi-res']) {
    test(`accepts ${JSON.stringify(name)}`, () => assert.equal(assertQueueName(name), name));
  }

  for (const name of ['', '-x', '_x', 'a b', 'a\n', 'ümlaut', 'q'.repeat(129)]) {
    test(`refuses ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…` : name)} quoting the name`, () => {
      assertThrowsCode(() => assertQueueName(name), EnqueueOptionsError, 'enqueue_options_invalid', /^invalid queue name ".*": use a letter or digit/);
    });
  }
});
