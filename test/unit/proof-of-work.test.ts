import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { blockHeader, hashWithNonce, leadingZeroBits, splitNonces } from '../../src/cli/demo/proof-of-work.js';

/** sha256("0|0|genesis|42"), computed with Python's hashlib. */
const EXPECTED_GENESIS_42 = '9e24c80e96b6487536e414f5fb00bbb605eb52c4e75b2f457a0e62a8c9c1f23c';

describe('leadingZeroBits', () => {
  const rows: Array<[number[], number]> = [
    [[], 0],
    [[0xff], 0],
    [[0x80, 0x00], 0],
    [[0x7f], 1],
    [[0x01], 7],
    [[0x00], 8],
    [[0x00, 0x00], 16],
    [[0x00, 0x0f, 0x00], 12],
    [[0x00, 0x00, 0x01, 0x00], 23],
    [[0x00, 0x00, 0x00, 0x40], 25],
  ];
  for (const [bytes, bits] of rows) {
    test(`[${bytes.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}] → ${bits}`, () => {
      assert.equal(leadingZeroBits(Uint8Array.from(bytes)), bits);
    });
  }

  test('counts a whole SHA-256 digest of zeros as 256 bits', () => {
    assert.equal(leadingZeroBits(Buffer.alloc(32)), 256);
  });
});

describe('splitNonces', () => {
  test('splits [from, from + ranges × size) into contiguous ranges', () => {
    assert.deepEqual(splitNonces(1000, 3, 50), [
      { start: 1000, count: 50 },
      { start: 1050, count: 50 },
      { start: 1100, count: 50 },
    ]);
  });

  test('no ranges gives an empty list', () => {
    assert.deepEqual(splitNonces(0, 0, 100), []);
  });
});

describe('blockHeader and hashWithNonce', () => {
  test('the header joins index, previous hash and data, ending with the separator the nonce follows', () => {
    assert.equal(blockHeader(7, 'abc', 'hello'), '7|abc|hello|');
  });

  test('hashes the header followed by the decimal nonce with SHA-256', () => {
    const hash = hashWithNonce(blockHeader(0, '0', 'genesis'), 42);
    assert.equal(hash.length, 32);
    assert.equal(hash.toString('hex'), EXPECTED_GENESIS_42);
  });

  test('finds a nonce at difficulty 8 by search, and the hash really starts with a zero byte', () => {
    const header = blockHeader(1, 'f'.repeat(64), 'unit test');
    const difficulty = 8;
    let nonce = 0;
    // A zero byte turns up about once in 256 tries; 1e5 tries without one means the search is broken.
    while (nonce < 100_000 && leadingZeroBits(hashWithNonce(header, nonce)) < difficulty) nonce++;
    const hash = hashWithNonce(header, nonce);
    assert.ok(leadingZeroBits(hash) >= difficulty, `no nonce found below ${nonce}`);
    assert.equal(hash[0], 0);
  });
});
