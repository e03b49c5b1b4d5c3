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
  /** When the task started (or, while it waits in the worker's lookahead, when it was sent). */
  startedAt: number;
  timeLimitTimer: NodeJS.Timeout | undefined;
  cancelTimer: NodeJS.Timeout | undefined;
  cancelling: boolean;
  /** Asked back from the lookahead; the answer (withdrawn, or a start) is on its way. */
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
  /** The tasks it runs next, in order (lookahead): sent while it is busy, each started the moment the one before is done. */
  waiting: Assignment[] = [];
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

  /** The assignment (running, or waiting in the lookahead) of a task id. */
  holding(id: string): Assignment | undefined {
    if (this.assignment?.delivery.envelope.id === id) return this.assignment;
    return this.waiting.find((assignment) => assignment.delivery.envelope.id === id);
  }

  /** Takes a task out of the lookahead; undefined if it is not waiting here. */
  takeWaiting(id: string): Assignment | undefined {
    const index = this.waiting.findIndex((assignment) => assignment.delivery.envelope.id === id);
    return index < 0 ? undefined : this.waiting.splice(index, 1)[0];
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
