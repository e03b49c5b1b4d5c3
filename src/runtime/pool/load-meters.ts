/**
 * The two rates the policy needs beyond counts: how fast tasks arrive, and
 * how long they take (a RecentMean of run times).
 */

/**
 * Arrivals per second over a sliding window, from a monotonically growing
 * counter. The window is the scale-down window: arrivals older than that no
 * longer hold workers, so the rate falls to zero when arrivals stop.
 */
export class ArrivalMeter {
  private readonly samples: Array<{ at: number; total: number }> = [];

  constructor(private readonly windowMs: number) {}

  observe(total: number, now: number): number {
    const last = this.samples[this.samples.length - 1];
    if (last && total < last.total) this.samples.length = 0;
    this.samples.push({ at: now, total });
    while (this.samples.length > 2 && now - this.samples[1]!.at >= this.windowMs) this.samples.shift();
    const oldest = this.samples[0]!;
    const elapsed = Math.max(now - oldest.at, 1);
    return now === oldest.at ? 0 : ((total - oldest.total) * 1000) / Math.max(elapsed, this.windowMs);
  }
}

/** The mean of the last `size` values: the tasks' run times, the sizes of their payloads. */
export class RecentMean {
  private readonly samples: number[] = [];
  private next = 0;
  private sum = 0;

  constructor(private readonly size = 100) {}

  record(value: number): void {
    if (this.samples.length < this.size) {
      this.samples.push(value);
    } else {
      this.sum -= this.samples[this.next]!;
      this.samples[this.next] = value;
      this.next = (this.next + 1) % this.size;
    }
    this.sum += value;
  }

  mean(): number | null {
    return this.samples.length === 0 ? null : this.sum / this.samples.length;
  }
}
