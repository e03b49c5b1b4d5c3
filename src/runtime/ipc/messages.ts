import type { JsonValue } from '../../core/json.js';
import type { BadInputCode, TaskError } from '../../core/task-record.js';
import type { TaskTypeSettings } from '../../core/task-type.js';

/** The IPC protocol between a pool manager and its worker processes. */

export interface RunTask {
  id: string;
  type: string;
  queue: string;
  /** The raw payload text: the worker decodes and validates it. */
  payload: string;
  attempt: number;
  key?: string;
  group?: string;
}

export type ToWorker =
  /** Run them in order: the first now if idle, the others (the lookahead) each when the one before is done. */
  | { t: 'run'; tasks: RunTask[] }
  /** Stop it if it runs, drop it if it waits; either way answer 'done' with a cancelled outcome. */
  | { t: 'cancel'; id: string }
  /** Give back this waiting task, if it has not started: answer 'withdrawn'. */
  | { t: 'withdraw'; id: string }
  /** Leave now: the manager retires this worker (it is idle). */
  | { t: 'bye' };

export interface CatalogEntry {
  name: string;
  settings: TaskTypeSettings;
}

export type WorkerOutcome =
  | { kind: 'succeeded'; result: JsonValue }
  | { kind: 'failed'; error: TaskError }
  | { kind: 'bad_input'; code: BadInputCode; message: string }
  | { kind: 'cancelled' };

/** Why a worker asks to leave. */
export type LeaveReason = 'idle' | 'max_tasks' | 'memory';

export type FromWorker =
  | { t: 'hello'; catalog: CatalogEntry[]; rssBytes: number }
  | { t: 'progress'; id: string; value: JsonValue }
  | {
      t: 'done';
      id: string;
      outcome: WorkerOutcome;
      startedAt: number;
      finishedAt: number;
      cpuMicros: number;
      rssBytes: number;
      /** Set when this was the worker's last task: it waits for 'bye'. */
      leaving?: LeaveReason;
    }
  /** An idle worker asks to leave; ignored if a task is already on its way to it. */
  | { t: 'leaving'; reason: 'idle' }
  /** The waiting task was given back unstarted. */
  | { t: 'withdrawn'; id: string };

/** Exit code of a worker that could not load its task module. */
export const EXIT_TASK_MODULE_INVALID = 78;

export interface WorkerConfig {
  tasksModule: string;
  maxTasks: number;
  idleExitMs: number;
  memoryLimitMb: number;
  maxPayloadBytes: number;
  maxResultBytes: number;
  /** Start a thread that kills the worker when its manager is gone (the driver cannot make the kernel do it). */
  watchParent: boolean;
}

export const WORKER_CONFIG_ENV = 'GAFFER_WORKER_CONFIG';
