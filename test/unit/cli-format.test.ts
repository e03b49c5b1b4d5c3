import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { formatBytes, formatDuration, parseCount, parseDuration } from '../../src/cli/format/durations.js';
import { textTable } from '../../src/cli/format/text-table.js';

/** Commander shows an InvalidArgumentError's message next to the option, so the message must say what is wanted. */
function assertInvalidArgument(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, message);
    return true;
  });
}

describe('parseDuration', () => {
  const valid: Array<[string, number]> = [
    ['0', 0],
    ['250', 250],
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0.5h', 1_800_000],
    ['  30s  ', 30_000],
    ['1.4ms', 1],
  ];
  for (const [text, ms] of valid) test(`${JSON.stringify(text)} → ${ms} ms`, () => assert.equal(parseDuration(text), ms));

  for (const text of ['', 'soon', '5x', '-5s', 's', '5 s', '1.s', '.5s', '5S', '1e3', '5s5']) {
    test(`refuses ${JSON.stringify(text)} with an example of what works`, () => {
      assertInvalidArgument(() => parseDuration(text), /is not a duration; write e\.g\. 500ms, 5s, 2m or 1h/);
    });
  }
});

describe('parseCount', () => {
  const valid: Array<[string, number]> = [
    ['0', 0],
    ['7', 7],
    ['0012', 12],
    [' 3 ', 3],
  ];
  for (const [text, count] of valid) test(`${JSON.stringify(text)} → ${count}`, () => assert.equal(parseCount(text), count));

  for (const text of ['', 'three', '-1', '1.5', '1e3', '+2', '0x10']) {
    test(`refuses ${JSON.stringify(text)}`, () => assertInvalidArgument(() => parseCount(text), /is not a whole number/));
  }
});

describe('formatDuration', () => {
  const rows: Array<[number, string]> = [
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1.0s'],
    [1540, '1.5s'],
    [59_900, '59.9s'],
    [60_000, '1m0s'],
    [90_000, '1m30s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h0m'],
    [5_400_000, '1h30m'],
    [50 * 3_600_000, '50h0m'],
    // Rounding the remainder alone must not produce a 60 in the lower unit.
    [119_600, '2m0s'],
    [7_170_000, '2h0m'],
  ];
  for (const [ms, text] of rows) test(`${ms} ms → "${text}"`, () => assert.equal(formatDuration(ms), text));
});

describe('formatBytes', () => {
  const rows: Array<[number | undefined, string]> = [
    [undefined, '-'],
    [0, '0 KiB'],
    [1536, '2 KiB'],
    [512 * 1024, '512 KiB'],
    [1024 * 1024, '1.0 MiB'],
    [1.25 * 1024 * 1024, '1.3 MiB'],
    [2048 * 1024 * 1024, '2048.0 MiB'],
  ];
  for (const [bytes, text] of rows) test(`${bytes} → "${text}"`, () => assert.equal(formatBytes(bytes), text));
});

describe('textTable', () => {
  test('pads every column to its widest cell, two spaces apart, the last column unpadded', () => {
    const table = textTable(
      ['ID', 'STATE', 'QUEUE'],
      [
        ['a1', 'running', 'default'],
        ['b22222', 'dead', 'images'],
      ],
    );
    assert.equal(table, ['ID      STATE    QUEUE', 'a1      running  default', 'b22222  dead     images'].join('\n'));
  });

  test('a header wider than its cells sets the width', () => {
    assert.equal(textTable(['LONG HEADER', 'X'], [['a', 'b']]), 'LONG HEADER  X\na            b');
  });

  test('trailing spaces are trimmed when the last cells are empty', () => {
    const lines = textTable(['A', 'B'], [['x', '']]).split('\n');
    assert.deepEqual(lines, ['A  B', 'x']);
  });

  test('a row with fewer cells than the header is not padded past its last cell', () => {
    assert.equal(textTable(['NAME', 'SIZE'], [['a'], ['bb', '10']]), 'NAME  SIZE\na\nbb    10');
  });

  test('no rows: the header alone', () => {
    assert.equal(textTable(['A', 'B'], []), 'A  B');
  });
});
