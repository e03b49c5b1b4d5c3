import { fileURLToPath } from 'node:url';
import type { Clock } from '../../ports/clock.js';
import type { WorkerDriver, WorkerExit } from '../../ports/worker-driver.js';
import { WORKER_CONFIG_ENV, type FromWorker, type WorkerConfig } from '../ipc/messages.js';
import { WorkerHandle } from './worker-handle.js';

const WORKER_ENTRY = fileURLToPath(new URL('../worker/worker-main.js', import.meta.url));

export interface WorkerSetListeners {
  onMessage(handle: WorkerHandle, message: FromWorker): void;
  onExit(handle: WorkerHandle, exit: WorkerExit): void;
}

/** The pool's worker processes: starting, counting, retiring and awaiting them. */
export class WorkerSet {
  private readonly handles = new Set<WorkerHandle>();
  private readonly env: Record<string, string>;

  constructor(
    private readonly driver: WorkerDriver,
    config: Omit<WorkerConfig, 'watchParent'>,
    private readonly clock: Clock,
    private readonly listeners: WorkerSetListeners,
    private readonly startTimeoutMs = 30_000,
    private readonly retireTimeoutMs = 5_000,
  ) {
    this.env = { [WORKER_CONFIG_ENV]: JSON.stringify({ ...config, watchParent: !driver.killsOrphans } satisfies WorkerConfig) };
  }

  start(): WorkerHandle {
    const channel = this.driver.start({ entry: WORKER_ENTRY, env: this.env });
    const handle = new WorkerHandle(channel, this.clock.now());
    this.handles.add(handle);
    const startTimer = setTimeout(() => {
      if (handle.state === 'starting') handle.kill('start_timeout');
    }, this.startTimeoutMs);
    startTimer.unref();
    channel.onMessage((message) => {
      if ((message as FromWorker).t === 'hello') clearTimeout(startTimer);
      this.listeners.onMessage(handle, message as FromWorker);
    });
    channel.onExit((exit) => {
      clearTimeout(startTimer);
      handle.exited = true;
      this.handles.delete(handle);
      this.listeners.onExit(handle, exit);
    });
    return handle;
  }

  /** Asks an idle worker to leave; one that does not is killed after a while. */
  retire(handle: WorkerHandle): void {
    if (handle.state === 'retiring') return;
    handle.state = 'retiring';
    handle.exitCause ??= 'retired';
    handle.send({ t: 'bye' });
    setTimeout(() => handle.exited || handle.kill('retired'), this.retireTimeoutMs).unref();
  }

  list(): WorkerHandle[] {
    return [...this.handles];
  }

  /**
   * Idle workers, the longest idle first. Asked at every pump, where there is
   * seldom more than one: no copy, and a sort only for two or more.
   */
  idle(): WorkerHandle[] {
    const idle: WorkerHandle[] = [];
    for (const handle of this.handles) if (handle.state === 'idle') idle.push(handle);
    return idle.length > 1 ? idle.sort((a, b) => a.idleSince - b.idleSince) : idle;
  }

  /** Workers that count toward the pool's size: all but those leaving. */
  liveCount(): number {
    let live = 0;
    for (const handle of this.handles) if (handle.state !== 'retiring') live++;
    return live;
  }

  busyCount(): number {
    let busy = 0;
    for (const handle of this.handles) if (handle.state === 'busy') busy++;
    return busy;
  }

  size(): number {
    return this.handles.size;
  }

  /** Resolves when every worker has exited; kills the stragglers after `timeoutMs`. */
  async waitForAllExits(timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.handles.size > 0) {
      if (this.clock.now() >= deadline) for (const handle of this.handles) handle.kill(handle.exitCause ?? 'retired');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
