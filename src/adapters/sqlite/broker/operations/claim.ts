import type Database from 'better-sqlite3';
import type { ClaimRequest, Delivery } from '../../../../ports/broker.js';
import { toDelivery, type BrokerTaskRow } from '../task-row.js';

/** Leases the oldest tasks that may start now: due, and each the head of its key. */
export function claimOperation(db: Database.Database): (request: ClaimRequest, now: number) => Delivery[] {
  const claim = db.prepare(`
    UPDATE broker_tasks SET state = 'running', lease_owner = @owner, lease_until = @leaseUntil
    WHERE seq IN (
      SELECT seq FROM broker_tasks
      WHERE queue = @queue AND state = 'queued' AND key_blocked = 0 AND run_at <= @now
      ORDER BY seq LIMIT @max
    )
    RETURNING *`);
  return (request, now) => {
    if (request.max <= 0) return [];
    const rows = claim.all({
      owner: request.owner,
      leaseUntil: now + request.leaseMs,
      queue: request.queue,
      now,
      max: request.max,
    }) as BrokerTaskRow[];
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => toDelivery(row, request.owner));
  };
}
