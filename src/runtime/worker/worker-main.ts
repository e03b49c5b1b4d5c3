/**
 * The entry point of a worker process, forked by a pool manager. It loads the
 * user's task module, says hello with the task types it found, then runs one
 * task at a time as the manager sends them. Everything that decides a task's
 * fate (retries, time limits, crashes) is the manager's; the worker runs,
 * answers, and leaves when asked or when its own limits say so.
 */
import type { AnyTaskType } from '../../core/task-type.js';
import { EXIT_TASK_MODULE_INVALID, type FromWorker, type RunTask, type ToWorker, type WorkerConfig } from '../ipc/messages.js';
import { loadTaskModule } from './load-task-module.js';
import { startParentWatchdog } from './parent-watchdog.js';
import { ProgressSender } from './progress-sender.js';
import { RunningTask, runTask } from './run-task.js';
import { readWorkerConfig } from './worker-config.js';

/** Wall-clock time with sub-millisecond precision, comparable with the manager's (same machine). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * How long a worker may run tasks from its lookahead back to back before it
 * lets its event loop turn (and read the manager's messages: a cancel, a
 * withdraw). A turn for each task cost short tasks 1.6 µs each in their
 * worker (12.3 to 10.7 µs of worker CPU a no-op task, three paired runs).
 */
const YIELD_EVERY_MS = 1;

function send(message: FromWorker): void {
  process.send?.(message);
}

class WorkerLoop {
  private current: RunningTask | undefined;
  /** Tasks sent ahead while one runs (the manager's lookahead); each starts when the one before is done. */
  private readonly waiting: RunTask[] = [];
  private tasksDone = 0;
  /** When the event loop last turned between two tasks (see YIELD_EVERY_MS). */
  private yieldedAt = performance.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private leaving = false;
  private rssBytes = process.memoryUsage.rss();
  private rssReadAt = Date.now();
  /**
   * The process's CPU time at the end of the last task (or once the task
   * module was loaded): a task's CPU is counted from there, one reading a
   * task, since each costs a system call (several microseconds here, more
   * than a no-op handler).
   */
  private cpuMark = process.cpuUsage();

  constructor(
    private readonly config: WorkerConfig,
    private readonly registry: ReadonlyMap<string, AnyTaskType>,
  ) {}

  start(): void {
    process.on('message', (message: ToWorker) => this.onMessage(message));
    send({
      t: 'hello',
      catalog: [...this.registry.values()].map((taskType) => ({ name: taskType.name, settings: taskType.settings })),
      rssBytes: this.rssBytes,
    });
    this.armIdleTimer();
  }

  private onMessage(message: ToWorker): void {
    switch (message.t) {
      case 'run': {
        const idle = !this.current && this.waiting.length === 0;
        this.waiting.push(...message.tasks);
        if (idle && this.waiting.length > 0) void this.run(this.waiting.shift()!);
        return;
      }
      case 'cancel':
        if (this.current?.id === message.id) this.current.abort(new Error('the task was cancelled'));
        else if (this.takeWaiting(message.id)) {
          const now = epochMs();
          send({ t: 'done', id: message.id, outcome: { kind: 'cancelled' }, startedAt: now, finishedAt: now, cpuMicros: 0, rssBytes: this.rssBytes });
        }
        return;
      case 'withdraw':
        if (this.takeWaiting(message.id)) send({ t: 'withdrawn', id: message.id });
        return;
      case 'bye':
        process.exit(0);
    }
  }

  private async run(task: RunTask): Promise<void> {
    this.disarmIdleTimer();
    const running = new RunningTask(task.id);
    this.current = running;
    const progress = new ProgressSender((value) => send({ t: 'progress', id: task.id, value }));
    const startedAt = epochMs();
    const outcome = await runTask(task, this.registry, this.config, running, (value) => progress.report(value));
    const cpuNow = process.cpuUsage();
    const cpuMicros = cpuNow.user - this.cpuMark.user + (cpuNow.system - this.cpuMark.system);
    this.cpuMark = cpuNow;
    progress.flush();
    this.current = undefined;
    this.tasksDone++;
    const rssBytes = this.residentMemory();
    const leaving = this.leaveReason(rssBytes);
    // Sent before the result, so the manager never takes a withdrawn task for a started one.
    if (leaving) for (const waiting of this.waiting.splice(0)) send({ t: 'withdrawn', id: waiting.id });
    send({
      t: 'done',
      id: task.id,
      outcome,
      startedAt,
      finishedAt: epochMs(),
      cpuMicros,
      rssBytes,
      ...(leaving ? { leaving } : {}),
    });
    if (leaving) {
      this.leaving = true;
    } else if (performance.now() - this.yieldedAt < YIELD_EVERY_MS) {
      this.startNext();
    } else {
      // The next task starts on the next turn, after any cancel or withdraw already on its way.
      setImmediate(() => {
        this.yieldedAt = performance.now();
        this.startNext();
      });
    }
  }

  private startNext(): void {
    if (this.current) return;
    const next = this.waiting.shift();
    if (next) void this.run(next);
    else this.armIdleTimer();
  }

  private takeWaiting(id: string): boolean {
    const index = this.waiting.findIndex((task) => task.id === id);
    if (index >= 0) this.waiting.splice(index, 1);
    return index >= 0;
  }

  /** Reading it costs a file read (/proc): once a second is enough, unless a memory limit is checked after every task. */
  private residentMemory(): number {
    const now = Date.now();
    if (this.config.memoryLimitMb > 0 || now - this.rssReadAt >= 1000) {
      this.rssBytes = process.memoryUsage.rss();
      this.rssReadAt = now;
    }
    return this.rssBytes;
  }

  private leaveReason(rssBytes: number): 'max_tasks' | 'memory' | undefined {
    if (this.config.maxTasks > 0 && this.tasksDone >= this.config.maxTasks) return 'max_tasks';
    if (this.config.memoryLimitMb > 0 && rssBytes > this.config.memoryLimitMb * 1024 * 1024) return 'memory';
    return undefined;
  }

  private armIdleTimer(): void {
    if (this.config.idleExitMs <= 0 || this.leaving) return;
    this.idleTimer = setTimeout(() => send({ t: 'leaving', reason: 'idle' }), this.config.idleExitMs);
  }

  private disarmIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

async function main(): Promise<void> {
  // The manager going away closes the channel; a worker never outlives it.
  process.on('disconnect', () => process.exit(0));
  const config = readWorkerConfig(process.env);
  let registry: Map<string, AnyTaskType>;
  try {
    registry = await loadTaskModule(config.tasksModule);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(EXIT_TASK_MODULE_INVALID);
  }
  new WorkerLoop(config, registry).start();
  // Only a handler can block this thread, and none runs before the hello: until then 'disconnect' suffices. Started
  // after it, the watchdog's own start-up (a thread and its isolate) no longer delays the worker's first task.
  if (config.watchParent) await startParentWatchdog();
}

void main();
