import type { ResolvedTaskSettings } from '../../core/pool-settings.js';
import type { Delivery } from '../../ports/broker.js';
import type { WorkerSnapshot, WorkerState } from '../../ports/store.js';
import type { WorkerChannel } from '../../ports/worker-driver.js';
import type { ToWorker } from '../ipc/messages.js';

/** Why the manager itself ended a worker; an exit without one is a crash. */
export type ExitCause = 'retired' | 'timeout' | 'cancelled' | 'drained' | 'start_timeout';

export interface Assignment {
  readonly delivery: Delivery;
  readonly settings: ResolvedTaskSettings;
  /** When the task started (or, while it waits in the worker's lookahead slot, when it was sent). */
  startedAt: number;
  timeLimitTimer: NodeJS.Timeout | undefined;
  cancelTimer: NodeJS.Timeout | undefined;
  cancelling: boolean;
  /** Asked back from the lookahead slot; the answer (withdrawn, or a start) is on its way. */
  withdrawing: boolean;
}

/** The manager's view of one worker process. */
export class WorkerHandle {
  state: WorkerState = 'starting';
  readyAt: number | undefined;
  tasksDone = 0;
  rssBytes: number | undefined;
  /** The task it runs. */
  assignment: Assignment | undefined;
  /** The task it runs next (lookahead): sent while it is busy, started the moment it is done. */
  next: Assignment | undefined;
  exitCause: ExitCause | undefined;
  idleSince: number;
  exited = false;

  constructor(
    readonly channel: WorkerChannel,
    readonly startedAt: number,
  ) {
    this.idleSince = startedAt;
  }

  get pid(): number {
    return this.channel.pid;
  }

  send(message: ToWorker): void {
    this.channel.send(message);
  }

  /** Ends the process on purpose; its exit is then not counted as a crash. */
  kill(cause: ExitCause): void {
    this.exitCause ??= cause;
    this.channel.kill('SIGKILL');
  }

  clearTimers(): void {
    if (!this.assignment) return;
    clearTimeout(this.assignment.timeLimitTimer);
    clearTimeout(this.assignment.cancelTimer);
  }

  /** The assignment (running, or waiting in the lookahead slot) of a task id. */
  holding(id: string): Assignment | undefined {
    if (this.assignment?.delivery.envelope.id === id) return this.assignment;
    if (this.next?.delivery.envelope.id === id) return this.next;
    return undefined;
  }

  snapshot(): WorkerSnapshot {
    const snapshot: WorkerSnapshot = { pid: this.pid, state: this.state, tasksDone: this.tasksDone, startedAt: this.startedAt };
    if (this.rssBytes !== undefined) snapshot.rssBytes = this.rssBytes;
    if (this.assignment) {
      snapshot.taskId = this.assignment.delivery.envelope.id;
      snapshot.taskType = this.assignment.delivery.envelope.type;
      snapshot.taskStartedAt = this.assignment.startedAt;
    }
    return snapshot;
  }
}
