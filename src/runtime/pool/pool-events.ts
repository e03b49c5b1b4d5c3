import type { JsonValue } from '../../core/json.js';
import type { DeadReason, TaskState } from '../../core/task-record.js';
import type { DecisionRecord } from '../../ports/store.js';
import type { ExitCause } from './worker-handle.js';

export interface TaskStartedEvent {
  id: string;
  type: string;
  pid: number;
  at: number;
}

export interface TaskFinishedEvent {
  id: string;
  type: string;
  group?: string;
  pid: number;
  /** What the task became: succeeded, retrying, queued (after a crash), dead or cancelled. */
  state: TaskState;
  /** How this run ended: the worker's answer (succeeded, failed, bad_input, cancelled), or timeout, or crashed. */
  ended: 'succeeded' | 'failed' | 'bad_input' | 'cancelled' | 'timeout' | 'crashed';
  result?: JsonValue;
  deadReason?: DeadReason;
  /** Wall time from dispatch to answer. */
  runMs: number;
  /** From when it was due (enqueued, or its runAt) to its start; first attempts only. */
  waitMs?: number;
  /** CPU time (user + system) its worker used since its previous task ended: the handler, and the worker's handling of the task around it. */
  cpuMicros?: number;
  /** When the handler began, by the worker's clock (the same machine's). */
  startedAt?: number;
}

export interface WorkerExitedEvent {
  pid: number;
  code: number | null;
  signal: string | null;
  /** Why the manager ended it, or 'crashed'. */
  cause: ExitCause | 'crashed';
  uptimeMs: number;
}

/** What a pool manager reports as it works, for the CLI's live views and metrics. */
export interface PoolEvents {
  'worker-started': [{ pid: number; at: number }];
  'worker-ready': [{ pid: number; startMs: number }];
  'worker-exited': [WorkerExitedEvent];
  'task-started': [TaskStartedEvent];
  'task-finished': [TaskFinishedEvent];
  /** Queued tasks cancelled by this pool, e.g. the losers of a race. */
  'tasks-cancelled': [{ ids: string[]; group?: string }];
  progress: [{ id: string; value: JsonValue }];
  decision: [DecisionRecord];
  /** The drain is over: every worker has exited and every outcome is recorded. */
  stopped: [];
}
