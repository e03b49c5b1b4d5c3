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
 * `tickMs` again (hurry). When a tick starts, the next is set (`tickMs`
 * away, or `quietMs` for a pool that was quiet), so that a store that hangs
 * does not stop the ticks; once its work has settled (the scaler has looked
 * at the queue), the next tick moves to `quietMs` if the pool is quiet, or
 * back to `tickMs` if it is not, unless news came meanwhile.
 */
export class PoolTicker {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  /** The delay the next tick was set with. */
  private delayMs = 0;
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
    this.delayMs = delayMs;
    this.dueAt = performance.now() + delayMs;
    this.timer = setTimeout(() => this.fire(), delayMs);
  }

  /**
   * A pool that was quiet at its last tick most likely still is: its next
   * tick is set quietMs away from the start. Set tickMs away and then moved
   * on, it still woke the process at tickMs, to find nothing due (Node keeps
   * the event loop's timer at the earliest expiry it was given): twice a
   * second for an idle pool instead of once.
   */
  private fire(): void {
    const { tickMs, quietMs } = this.options;
    this.schedule(this.delayMs === quietMs ? quietMs : tickMs);
    const next = this.scheduled;
    void this.options.tick().finally(() => {
      if (this.stopped || this.scheduled !== next) return;
      const wanted = this.options.quiet() ? quietMs : tickMs;
      if (wanted !== this.delayMs) this.schedule(wanted);
    });
  }
}
