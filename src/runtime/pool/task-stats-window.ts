import type { TaskState } from '../../core/task-record.js';
import type { PoolTaskStats } from '../../ports/store.js';

interface Sample {
  at: number;
  state: TaskState;
  runMs: number;
  waitMs: number | undefined;
}

/** The span of recent tasks a pool reports on, and the most samples it keeps for it. */
const WINDOW_MS = 60_000;
const MAX_SAMPLES = 5000;

/**
 * What a pool saw of the tasks it finished over the last minute: outcomes,
 * throughput, and the medians and 95th percentiles of wait and run times. It
 * goes out with every heartbeat, for `gaffer status`, the API and the
 * dashboard.
 */
export class TaskStatsWindow {
  /** A ring of the last MAX_SAMPLES samples: at the pace of no-op tasks, dropping the oldest must cost nothing. */
  private readonly ring: Array<Sample | undefined> = new Array(MAX_SAMPLES);
  private nextSlot = 0;

  record(sample: Sample): void {
    this.ring[this.nextSlot] = sample;
    this.nextSlot = (this.nextSlot + 1) % MAX_SAMPLES;
  }

  /** One pass over the ring, no object per sample: it runs with every heartbeat, over up to MAX_SAMPLES samples. */
  snapshot(now: number, arrivalsPerSecond: number): PoolTaskStats {
    const since = now - WINDOW_MS;
    const outcomes: PoolTaskStats['outcomes'] = {};
    const runs = new Float64Array(MAX_SAMPLES);
    const waits = new Float64Array(MAX_SAMPLES);
    let count = 0;
    let waited = 0;
    let ended = 0;
    let oldest = now;
    for (let offset = 0; offset < MAX_SAMPLES; offset++) {
      const sample = this.ring[(this.nextSlot + offset) % MAX_SAMPLES];
      if (!sample || sample.at <= since) continue;
      if (count === 0) oldest = sample.at;
      outcomes[sample.state] = (outcomes[sample.state] ?? 0) + 1;
      if (sample.state !== 'queued' && sample.state !== 'retrying') ended++;
      runs[count++] = sample.runMs;
      if (sample.waitMs !== undefined) waits[waited++] = sample.waitMs;
    }
    return {
      windowMs: WINDOW_MS,
      outcomes,
      completedPerSecond: (ended * 1000) / Math.max(1000, now - oldest),
      arrivalsPerSecond,
      waitMs: percentiles(waits.subarray(0, waited)),
      runMs: percentiles(runs.subarray(0, count)),
    };
  }
}

export function percentiles(values: ArrayLike<number>): { p50: number; p95: number } | null {
  if (values.length === 0) return null;
  // A typed array sorts numbers natively, several times faster than sort() with a comparator.
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95) };
}
