import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TurnBatch } from '../../src/core/turn-batch.js';

describe('TurnBatch', () => {
  test('the calls of one turn, microtasks included, run as one batch, each caller getting its own answer', async () => {
    const batches: number[][] = [];
    const batch = new TurnBatch<number, number>(async (inputs) => {
      batches.push(inputs);
      return inputs.map((input) => input * 10);
    }, 100);
    const first = batch.add(1);
    const later = Promise.resolve().then(() => batch.add(2));
    const third = batch.add(3);
    assert.deepEqual(await Promise.all([first, later, third]), [10, 20, 30]);
    assert.deepEqual(batches, [[1, 3, 2]]);
    assert.equal(await batch.add(4), 40);
    assert.deepEqual(batches, [[1, 3, 2], [4]]);
  });

  test('a long turn is split into calls of at most maxItems', async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch<number, number>(async (inputs) => (sizes.push(inputs.length), inputs), 3);
    const outputs = await Promise.all(Array.from({ length: 7 }, (_, index) => batch.add(index)));
    assert.deepEqual(outputs, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(sizes, [3, 3, 1]);
  });

  test('a failed call rejects every item it carried, and only those', async () => {
    const batch = new TurnBatch<number, number>(async (inputs) => {
      if (inputs.includes(2)) throw new Error('Redis said no');
      return inputs;
    }, 2);
    const results = await Promise.allSettled([1, 2, 3].map((input) => batch.add(input)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[0] as PromiseRejectedResult).reason), /Redis said no/);
  });
});
