import type { Delivery } from '../../ports/broker.js';
import type { WorkerHandle } from './worker-handle.js';

/**
 * Tasks shorter than this on average get lookahead: the IPC round trip between
 * two tasks (a few hundred microseconds on a busy machine) would otherwise
 * cost them several percent of the CPU. Longer tasks never do.
 */
export const LOOKAHEAD_BELOW_MS = 100;

/** The most tasks a worker is sent ahead, however short they are. */
export const MAX_LOOKAHEAD = 256;

/**
 * The payload a worker is sent ahead, on average, in characters of JSON: a
 * handler that ignores a big payload is quick, yet each of its tasks is
 * copied to the worker, and the tasks sent ahead travel in one message.
 */
export const LOOKAHEAD_MAX_PAYLOAD = 4 * 1024 * 1024;

/**
 * How many tasks each busy worker is sent ahead: enough to cover the pool's
 * lookaheadMs of their mean run time, at least one, at most MAX_LOOKAHEAD and
 * LOOKAHEAD_MAX_PAYLOAD of their mean payload; none for long tasks, before a
 * mean is known, or with lookaheadMs 0.
 */
export function lookaheadDepth(meanMs: number | null, lookaheadMs: number, meanPayload: number | null = null): number {
  if (meanMs === null || meanMs >= LOOKAHEAD_BELOW_MS || lookaheadMs === 0) return 0;
  const byTime = meanMs <= 0 ? MAX_LOOKAHEAD : Math.floor(lookaheadMs / meanMs);
  const byPayload = meanPayload && meanPayload > 0 ? Math.floor(LOOKAHEAD_MAX_PAYLOAD / meanPayload) : MAX_LOOKAHEAD;
  return Math.max(1, Math.min(MAX_LOOKAHEAD, byTime, byPayload));
}

export interface LookaheadRoom {
  handle: WorkerHandle;
  room: number;
}

/**
 * The busy workers whose lookahead is half used or less, with how many tasks
 * each may take: up to the depth, and never more than it will run before it
 * leaves (`maxTasksPerWorker`, 0 for no limit). Refilling only at half makes
 * claims and run messages come in batches.
 */
export function lookaheadRooms(workers: readonly WorkerHandle[], depth: number, maxTasksPerWorker: number): LookaheadRoom[] {
  if (depth === 0) return [];
  const rooms: LookaheadRoom[] = [];
  for (const handle of workers) {
    if (handle.state !== 'busy' || !handle.assignment || handle.assignment.cancelling || handle.waiting.length > depth / 2) continue;
    const held = 1 + handle.waiting.length;
    const room = Math.min(depth - handle.waiting.length, maxTasksPerWorker === 0 ? Number.POSITIVE_INFINITY : maxTasksPerWorker - handle.tasksDone - held);
    if (room > 0) rooms.push({ handle, room });
  }
  return rooms;
}

/**
 * Deals the deliveries out over the rooms one at a time, round the workers,
 * so that each worker's share starts as early as the others'. Returns each
 * room's share (in the rooms' order) and what did not fit: never more than
 * was asked for is kept.
 */
export function shareOut(rooms: readonly LookaheadRoom[], deliveries: readonly Delivery[]): { shares: Delivery[][]; extra: Delivery[] } {
  const total = rooms.reduce((sum, { room }) => sum + room, 0);
  const shares = rooms.map(() => [] as Delivery[]);
  let next = 0;
  for (const delivery of deliveries.slice(0, total)) {
    while (shares[next]!.length >= rooms[next]!.room) next = (next + 1) % rooms.length;
    shares[next]!.push(delivery);
    next = (next + 1) % rooms.length;
  }
  return { shares, extra: deliveries.slice(total) };
}

/**
 * The worker with the most tasks waiting in its lookahead (not already asked
 * back), and the last of them: what an idle worker that found the queue
 * empty takes over, so no worker sits on work another could run.
 */
export function lastOfLongestLookahead(workers: readonly WorkerHandle[]): { handle: WorkerHandle; last: WorkerHandle['waiting'][number] } | undefined {
  let best: { handle: WorkerHandle; waiting: WorkerHandle['waiting'] } | undefined;
  for (const handle of workers) {
    const waiting = handle.waiting.filter((assignment) => !assignment.withdrawing);
    if (!best || waiting.length > best.waiting.length) best = { handle, waiting };
  }
  const last = best?.waiting.at(-1);
  return best && last ? { handle: best.handle, last } : undefined;
}
