import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StderrTail } from '../../src/adapters/drivers/stderr-tail.js';

function tailOf(limit: number | undefined, chunks: string[]): string {
  const tail = new StderrTail(limit);
  for (const chunk of chunks) tail.push(Buffer.from(chunk));
  return tail.text();
}

describe('StderrTail', () => {
  const rows: Array<{ name: string; limit?: number; chunks: string[]; expected: string }> = [
    { name: 'nothing written: empty', limit: 10, chunks: [], expected: '' },
    { name: 'less than the limit: all of it', limit: 10, chunks: ['ab', 'cd'], expected: 'abcd' },
    { name: 'exactly the limit: all of it', limit: 4, chunks: ['ab', 'cd'], expected: 'abcd' },
    { name: 'one chunk over the limit: its end', limit: 4, chunks: ['0123456789'], expected: '6789' },
    { name: 'many small chunks: the last bytes across chunk boundaries', limit: 5, chunks: ['abc', 'def', 'ghi', 'jk'], expected: 'ghijk' },
    { name: 'a big chunk after small ones: only the big one counts', limit: 3, chunks: ['a', 'b', 'wxyz'], expected: 'xyz' },
    { name: 'empty chunks are harmless', limit: 3, chunks: ['', 'abcd', '', ''], expected: 'bcd' },
  ];
  for (const row of rows) test(row.name, () => assert.equal(tailOf(row.limit, row.chunks), row.expected));

  test('keeps 4096 bytes by default', () => {
    const text = tailOf(undefined, ['x'.repeat(5000), 'END']);
    assert.equal(text.length, 4096);
    assert.ok(text.endsWith('xEND'));
  });

  test('a long-running process writing a lot keeps only the tail', () => {
    const tail = new StderrTail(16);
    for (let i = 0; i < 100_000; i++) tail.push(Buffer.from(`line ${i}\n`));
    assert.equal(tail.text(), 'line 99998\nline 99999\n'.slice(-16));
  });
});
