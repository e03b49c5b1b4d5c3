import type { TaskEnvelope } from '../../../core/envelope.js';
import type { DeadReason } from '../../../core/task-record.js';
import type { DeadLetter, Delivery } from '../../../ports/broker.js';

export interface BrokerTaskRow {
  seq: number;
  id: string;
  queue: string;
  type: string;
  payload: string;
  key: string | null;
  grp: string | null;
  race: number;
  state: 'queued' | 'running' | 'done' | 'dead' | 'cancelled';
  key_blocked: number;
  run_at: number;
  due_at: number;
  enqueued_at: number;
  attempts: number;
  deaths: number;
  lease_owner: string | null;
  lease_until: number | null;
  claims: number;
  cancel_requested: number;
  dead_reason: string | null;
  finished_at: number | null;
}

/** The columns a claim returns: what a delivery needs, nothing more. */
export const CLAIMED_COLUMNS = 'seq, id, queue, type, payload, key, grp, race, run_at, enqueued_at, attempts, deaths, cancel_requested, claims';

export type ClaimedRow = Pick<BrokerTaskRow, 'seq' | 'id' | 'queue' | 'type' | 'payload' | 'key' | 'grp' | 'race' | 'run_at' | 'enqueued_at' | 'attempts' | 'deaths' | 'cancel_requested' | 'claims'>;

export function toEnvelope(row: ClaimedRow): TaskEnvelope {
  const envelope: TaskEnvelope = { id: row.id, queue: row.queue, type: row.type, payload: row.payload, enqueuedAt: row.enqueued_at };
  if (row.key !== null) envelope.key = row.key;
  if (row.grp !== null) envelope.group = row.grp;
  if (row.race) envelope.race = true;
  if (row.run_at > row.enqueued_at) envelope.runAt = row.run_at;
  return envelope;
}

/**
 * The tag names the row, the claim and the lease owner, so that a late ack
 * from a lease that was lost (to another pool, or to a later claim by the same
 * one) changes nothing. `row.claims` is the count after this claim.
 */
export function toDelivery(row: ClaimedRow, owner: string): Delivery {
  return {
    tag: `${row.seq}:${row.claims}:${owner}`,
    envelope: toEnvelope(row),
    attempts: row.attempts,
    deaths: row.deaths,
    cancelRequested: row.cancel_requested === 1,
  };
}

export function toDeadLetter(row: BrokerTaskRow): DeadLetter {
  return {
    envelope: toEnvelope(row),
    reason: JSON.parse(row.dead_reason ?? '{"kind":"failed","message":"unknown","attempts":0}') as DeadReason,
    attempts: row.attempts,
    deaths: row.deaths,
    deadAt: row.finished_at ?? 0,
  };
}

export interface LeaseRef {
  seq: number;
  claims: number;
  owner: string;
}

export function parseTag(tag: string): LeaseRef {
  const first = tag.indexOf(':');
  const second = tag.indexOf(':', first + 1);
  return { seq: Number(tag.slice(0, first)), claims: Number(tag.slice(first + 1, second)), owner: tag.slice(second + 1) };
}
