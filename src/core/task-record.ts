import type { TaskEnvelope } from './envelope.js';
import type { JsonValue } from './json.js';

/**
 * The life of a task as the store records it. `retrying` means a failed
 * attempt is waiting for its backoff delay; `dead` means it sits in its
 * queue's dead-letter queue, with the reason.
 */
export type TaskState = 'queued' | 'running' | 'retrying' | 'succeeded' | 'dead' | 'cancelled';

export const FINAL_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'dead', 'cancelled']);

export function isFinalState(state: TaskState): boolean {
  return FINAL_STATES.has(state);
}

export type BadInputCode = 'not_json' | 'unknown_type' | 'schema' | 'oversize';

export interface TaskError {
  name?: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Why a task ended in its dead-letter queue. */
export type DeadReason =
  | { kind: 'bad_input'; code: BadInputCode; message: string }
  | { kind: 'failed'; message: string; stack?: string; attempts: number }
  | { kind: 'timeout'; message: string; timeLimitMs: number; attempts: number }
  | {
      kind: 'crashed';
      message: string;
      exitCode: number | null;
      signal: string | null;
      stderrTail: string;
      deaths: number;
    };

export interface TaskRecord {
  id: string;
  queue: string;
  type: string;
  key?: string;
  group?: string;
  state: TaskState;
  attempts: number;
  deaths: number;
  enqueuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  result?: JsonValue;
  error?: TaskError;
  deadReason?: DeadReason;
  poolId?: string;
  workerPid?: number;
}

export function describeDeadReason(reason: DeadReason): string {
  switch (reason.kind) {
    case 'bad_input':
      return `bad input (${reason.code}): ${reason.message}`;
    case 'failed':
      return `failed after ${reason.attempts} attempt(s): ${reason.message}`;
    case 'timeout':
      return `timed out after ${reason.attempts} attempt(s): ${reason.message}`;
    case 'crashed':
      return `quarantined after ${reason.deaths} worker death(s): ${reason.message}`;
  }
}

/** The record of a task that was just enqueued (or re-enqueued from its dead-letter queue). */
export function queuedRecordFor(envelope: TaskEnvelope): TaskRecord {
  const record: TaskRecord = {
    id: envelope.id,
    queue: envelope.queue,
    type: envelope.type,
    state: 'queued',
    attempts: 0,
    deaths: 0,
    enqueuedAt: envelope.enqueuedAt,
  };
  if (envelope.key !== undefined) record.key = envelope.key;
  if (envelope.group !== undefined) record.group = envelope.group;
  return record;
}
