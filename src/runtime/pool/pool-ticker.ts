export interface PoolTickerOptions {
  /** Between ticks while the pool has something to watch. */
  tickMs: number;
  /** Between ticks while it is quiet. */
  quietMs: number;
  /** Whether the pool is quiet now (see Scaler.quiet). */
  quiet: () => boolean;
  /** The tick's work, settled once the pool knows whether it is quiet; it handles its own failures. */
  tick: () => Promise<void>;
}

/**
 * The pool's tick: every `tickMs` while the pool has something to watch, and
 * every `quietMs` while it is quiet, whose ticks would find nothing to do. A
 * tick on a fixed interval woke an idle pool ten times a second to skip nine
 * of them. News (an enqueue, a task that starts) brings the next tick within
 * `tickMs` again (hurry). When a tick starts, the next is set `tickMs` away,
 * so that a store that hangs does not stop the ticks; once its work has
 * settled (the scaler has looked at the queue), a quiet pool's next tick
 * moves to `quietMs`, unless news came meanwhile.
 */
export class PoolTicker {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  /** Counts the ticks set: one set after a tick started means news came meanwhile. */
  private scheduled = 0;
  private stopped = true;

  constructor(private readonly options: PoolTickerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.options.tickMs);
  }

  /** The next tick comes within tickMs. */
  hurry(): void {
    if (!this.stopped && this.dueAt - performance.now() > this.options.tickMs) this.schedule(this.options.tickMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.scheduled++;
    this.dueAt = performance.now() + delayMs;
    this.timer = setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    this.schedule(this.options.tickMs);
    const next = this.scheduled;
    void this.options.tick().finally(() => {
      if (!this.stopped && this.scheduled === next && this.options.quiet()) this.schedule(this.options.quietMs);
    });
  }
}
