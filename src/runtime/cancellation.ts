import type { Broker, CancelResult, CancelSelector } from '../ports/broker.js';
import type { Store } from '../ports/store.js';

/**
 * Cancels tasks in the broker and records, in the store, the ones that ended
 * on the spot (they were queued). Running ones are stopped by their pool,
 * which records their end itself.
 */
export async function cancelTasks(broker: Broker, store: Store, selector: CancelSelector, now: number): Promise<CancelResult[]> {
  const results = await broker.cancel(selector);
  const ended = results.filter((result) => result.outcome === 'cancelled' && result.queue !== undefined && result.type !== undefined);
  if (ended.length > 0) {
    await store.updateTasks(
      ended.map((result) => ({ id: result.id, queue: result.queue!, type: result.type!, state: 'cancelled' as const, finishedAt: now })),
    );
  }
  return results;
}
