import { TaskCancelledError, TaskFailedError, TaskNotFoundError, WaitTimeoutError } from '../core/errors.js';
import type { TaskRecord } from '../core/task-record.js';
import type { CancelResult } from '../ports/broker.js';
import type { Store } from '../ports/store.js';
import { recordReadsOf } from './record-reads.js';

export interface WaitOptions {
  /** Give up waiting (the task goes on) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Settles with a record once it is final: the result, or the typed error of a failure or a cancellation. */
export function resultOf<Result>(record: TaskRecord): { ok: true; value: Result } | { ok: false; error: Error } {
  if (record.state === 'succeeded') return { ok: true, value: record.result as Result };
  if (record.state === 'cancelled') return { ok: false, error: new TaskCancelledError(record.id) };
  const reason = record.deadReason ?? { kind: 'failed' as const, message: record.error?.message ?? 'unknown failure', attempts: record.attempts };
  return { ok: false, error: new TaskFailedError(record.id, reason) };
}

/** Waits for one task to become final, without a polling loop of its own (the store notifies). */
export async function waitForFinal(store: Store, id: string, options: WaitOptions = {}): Promise<TaskRecord> {
  if (!(await recordReadsOf(store).get(id))) throw new TaskNotFoundError(id);
  return new Promise<TaskRecord>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      stop();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(options.signal?.reason ?? new Error('aborted'));
    };
    const stop = store.watchFinal([id], (record) => {
      cleanup();
      resolve(record);
    });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError(id, options.timeoutMs!));
      }, options.timeoutMs);
    }
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A task that was enqueued: wait for its result, look at its state, or cancel it. */
export class TaskHandle<Result = unknown> {
  constructor(
    readonly id: string,
    /** False when a task with this id already existed: this handle is for that one. */
    readonly created: boolean,
    private readonly store: Store,
    private readonly cancelById: (id: string) => Promise<CancelResult>,
  ) {}

  /** The handler's result; rejects with TaskFailedError (dead-lettered) or TaskCancelledError. */
  async result(options: WaitOptions = {}): Promise<Result> {
    const outcome = resultOf<Result>(await waitForFinal(this.store, this.id, options));
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  }

  async status(): Promise<TaskRecord> {
    const record = await recordReadsOf(this.store).get(this.id);
    if (!record) throw new TaskNotFoundError(this.id);
    return record;
  }

  cancel(): Promise<CancelResult> {
    return this.cancelById(this.id);
  }
}
