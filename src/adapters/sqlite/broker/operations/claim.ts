import type Database from 'better-sqlite3';
import type { ClaimRequest, Delivery } from '../../../../ports/broker.js';
import { CLAIMED_COLUMNS, toDelivery, type ClaimedRow } from '../task-row.js';

/**
 * Leases the oldest tasks that may start now: due, and each the head of its
 * key. A SELECT then an UPDATE by primary key, in one transaction: measured
 * nine times cheaper here than one UPDATE ... WHERE seq IN (SELECT ...)
 * RETURNING. The LIMIT is a literal, one prepared statement per batch size:
 * a bound LIMIT costs SQLite several microseconds more per call.
 */
export function claimOperation(db: Database.Database): (request: ClaimRequest, now: number) => Delivery[] {
  const readyBySize = new Map<number, Database.Statement>();
  const ready = (max: number) => {
    let statement = readyBySize.get(max);
    if (!statement) {
      statement = db.prepare(`
        SELECT ${CLAIMED_COLUMNS} FROM broker_tasks
        WHERE queue = ? AND state = 'queued' AND key_blocked = 0 AND due_at <= ?
        ORDER BY seq LIMIT ${max}`);
      readyBySize.set(max, statement);
    }
    return statement;
  };
  const lease = db.prepare(`UPDATE broker_tasks SET state = 'running', lease_owner = ?, lease_until = ?, claims = claims + 1 WHERE seq = ?`);
  const leaseAll = db.transaction((rows: readonly ClaimedRow[], owner: string, leaseUntil: number) => {
    for (const row of rows) lease.run(owner, leaseUntil, row.seq);
  });
  return (request, now) => {
    const max = Math.floor(request.max);
    if (!(max > 0)) return [];
    const rows = ready(max).all(request.queue, now) as ClaimedRow[];
    const leaseUntil = now + request.leaseMs;
    // One row is one statement, atomic by itself; more need a savepoint.
    if (rows.length === 1) lease.run(request.owner, leaseUntil, rows[0]!.seq);
    else if (rows.length > 1) leaseAll(rows, request.owner, leaseUntil);
    return rows.map((row) => toDelivery({ ...row, claims: row.claims + 1 }, request.owner));
  };
}
