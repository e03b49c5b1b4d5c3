import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { newTaskId } from '../../src/core/ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function timeOf(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

describe('newTaskId', () => {
  test('is a lowercase UUID with version 7 and the RFC 9562 variant', () => {
    for (let i = 0; i < 200; i++) {
      const id = newTaskId(1_700_000_000_000);
      assert.match(id, UUID);
      assert.equal(id[14], '7', `version nibble of ${id}`);
      assert.match(id[19]!, /[89ab]/, `variant bits of ${id}`);
    }
  });

  const times = [0, 1, 1_700_000_000_123, 2 ** 48 - 1];
  for (const now of times) {
    test(`carries the time ${now} in its first 48 bits`, () => assert.equal(timeOf(newTaskId(now)), now));
  }

  test('defaults to the current time', () => {
    const before = Date.now();
    const at = timeOf(newTaskId());
    assert.ok(at >= before && at <= Date.now());
  });

  test('ids made in later milliseconds sort later, whatever their random bits', () => {
    const ids = Array.from({ length: 500 }, (_, i) => newTaskId(1_700_000_000_000 + i));
    assert.deepEqual([...ids].sort(), ids);
  });

  test('ids made in the same millisecond differ', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newTaskId(5)));
    assert.equal(ids.size, 1000);
  });
});
