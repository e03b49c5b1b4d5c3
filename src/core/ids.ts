import { randomBytes } from 'node:crypto';

/**
 * A new task id: a UUID version 7, whose first 48 bits are the time in
 * milliseconds. Ids made later sort later, so the database appends them to
 * its indexes instead of scattering writes over them.
 */
export function newTaskId(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
