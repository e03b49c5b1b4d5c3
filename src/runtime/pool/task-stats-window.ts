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

  snapshot(now: number, arrivalsPerSecond: number): PoolTaskStats {
    const samples = this.recent(now - WINDOW_MS);
    const outcomes: PoolTaskStats['outcomes'] = {};
    for (const { state } of samples) outcomes[state] = (outcomes[state] ?? 0) + 1;
    const oldest = samples[0]?.at ?? now;
    const spanMs = Math.max(1000, now - oldest);
    const ended = samples.filter((sample) => sample.state !== 'queued' && sample.state !== 'retrying').length;
    return {
      windowMs: WINDOW_MS,
      outcomes,
      completedPerSecond: (ended * 1000) / spanMs,
      arrivalsPerSecond,
      waitMs: percentiles(samples.flatMap((sample) => (sample.waitMs === undefined ? [] : [sample.waitMs]))),
      runMs: percentiles(samples.map((sample) => sample.runMs)),
    };
  }

  /** The samples taken after `since`, oldest first. */
  private recent(since: number): Sample[] {
    const samples: Sample[] = [];
    for (let offset = 0; offset < MAX_SAMPLES; offset++) {
      const sample = this.ring[(this.nextSlot + offset) % MAX_SAMPLES];
      if (sample && sample.at > since) samples.push(sample);
    }
    return samples;
  }
}

export function percentiles(values: readonly number[]): { p50: number; p95: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95) };
}
