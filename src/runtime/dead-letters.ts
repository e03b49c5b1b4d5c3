import { queuedRecordFor } from '../core/task-record.js';
import type { Broker, DeadLetterSelector } from '../ports/broker.js';
import type { Store } from '../ports/store.js';

/** Sends dead letters back to their queue; their records start over as queued. */
export async function retryDeadLetters(broker: Broker, store: Store, selector: DeadLetterSelector): Promise<string[]> {
  const envelopes = await broker.retryDead(selector);
  if (envelopes.length > 0) await store.replaceTasks(envelopes.map(queuedRecordFor));
  return envelopes.map((envelope) => envelope.id);
}
