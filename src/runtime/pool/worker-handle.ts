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
  readonly dispatchedAt: number;
  timeLimitTimer: NodeJS.Timeout | undefined;
  cancelTimer: NodeJS.Timeout | undefined;
  cancelling: boolean;
}

/** The manager's view of one worker process. */
export class WorkerHandle {
  state: WorkerState = 'starting';
  readyAt: number | undefined;
  tasksDone = 0;
  rssBytes: number | undefined;
  assignment: Assignment | undefined;
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

  snapshot(): WorkerSnapshot {
    const snapshot: WorkerSnapshot = { pid: this.pid, state: this.state, tasksDone: this.tasksDone, startedAt: this.startedAt };
    if (this.rssBytes !== undefined) snapshot.rssBytes = this.rssBytes;
    if (this.assignment) {
      snapshot.taskId = this.assignment.delivery.envelope.id;
      snapshot.taskType = this.assignment.delivery.envelope.type;
      snapshot.taskStartedAt = this.assignment.dispatchedAt;
    }
    return snapshot;
  }
}
