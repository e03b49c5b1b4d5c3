import { createHash } from 'node:crypto';

/**
 * The demo's job: proof-of-work mining. A block is found when the SHA-256 of
 * its header followed by a nonce starts with `difficulty` zero bits.
 */
export function blockHeader(index: number, previousHash: string, data: string): string {
  return `${index}|${previousHash}|${data}|`;
}

export function hashWithNonce(header: string, nonce: number): Buffer {
  return createHash('sha256').update(header + nonce).digest();
}

export function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export interface NonceRange {
  start: number;
  count: number;
}

/** Splits the nonces [from, from + ranges × size) into ranges of `size`. */
export function splitNonces(from: number, ranges: number, size: number): NonceRange[] {
  return Array.from({ length: ranges }, (_, index) => ({ start: from + index * size, count: size }));
}
