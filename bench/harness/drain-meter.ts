/**
 * Times how fast a consumer drains a backlog that was queued before it
 * started. The clock starts at the first completion after `warmup` of them
 * (and once `ready()` holds: all workers up), so that process start-up and
 * JIT warm-up are left out, and stops at the last. The same meter serves
 * gaffer and its anchor, so both are timed the same way.
 */
export class DrainMeter {
  private seen = 0;
  private clockFrom: { at: number; seen: number } | undefined;
  private lastAt = 0;

  constructor(
    readonly total: number,
    private readonly warmup: number,
    private readonly ready: () => boolean = () => true,
    /** Called once, when the clock starts: to read CPU counters over the same window, say. Keep it short. */
    private readonly onClockStart?: () => void,
  ) {}

  /** Counts one completion at `at` (performance.now()); true at the last one. */
  complete(at: number): boolean {
    this.seen++;
    this.lastAt = at;
    if (this.clockFrom === undefined && this.seen >= this.warmup && this.ready()) {
      this.clockFrom = { at, seen: this.seen };
      this.onClockStart?.();
    }
    return this.seen === this.total;
  }

  /** Tasks per second over the timed part, and from `consumerStartAt` (cold: start-up included) for reference. */
  result(consumerStartAt: number): { rate: number; timedTasks: number; timedMs: number; coldRate: number } {
    if (this.seen !== this.total) throw new Error(`only ${this.seen} of ${this.total} completions were seen`);
    if (!this.clockFrom || this.clockFrom.seen === this.total) {
      throw new Error('the backlog was gone before the consumer was warm; enqueue more tasks');
    }
    const timedTasks = this.total - this.clockFrom.seen;
    const timedMs = this.lastAt - this.clockFrom.at;
    return { rate: (timedTasks * 1000) / timedMs, timedTasks, timedMs, coldRate: (this.total * 1000) / (this.lastAt - consumerStartAt) };
  }
}
