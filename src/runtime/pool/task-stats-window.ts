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

/** A sample's state, as stored; 0 marks a slot never written. A Record, so that a new TaskState cannot go uncoded. */
const STATE_CODES: Readonly<Record<TaskState, number>> = { queued: 1, running: 2, retrying: 3, succeeded: 4, dead: 5, cancelled: 6 };
const STATES = Object.keys(STATE_CODES) as TaskState[];

/**
 * What a pool saw of the tasks it finished over the last minute: outcomes,
 * throughput, and the medians and 95th percentiles of wait and run times. It
 * goes out with every heartbeat, for `gaffer status`, the API and the
 * dashboard.
 *
 * The samples sit in typed arrays, one per field, and the percentiles are
 * selected, not sorted: a snapshot of 5,000 samples takes 85-105 µs here.
 * Kept as objects and sorted, it took 700-800 µs warm (two sorts and four
 * new arrays), and in a pool of 20 ms tasks it left V8's optimized code
 * about once a heartbeat (`--trace-deopt`: "not a Smi", 12 times in two runs
 * of two seconds; once now), to run its loop interpreted.
 */
export class TaskStatsWindow {
  /** Rings of the last MAX_SAMPLES samples: at the pace of no-op tasks, dropping the oldest must cost nothing. */
  private readonly at = new Float64Array(MAX_SAMPLES);
  private readonly states = new Uint8Array(MAX_SAMPLES);
  private readonly runMs = new Float64Array(MAX_SAMPLES);
  /** NaN for a task that did not wait from its enqueue (a retry). */
  private readonly waitMs = new Float64Array(MAX_SAMPLES);
  /** Scratch space for the selections, reused by every snapshot. */
  private readonly runsScratch = new Float64Array(MAX_SAMPLES);
  private readonly waitsScratch = new Float64Array(MAX_SAMPLES);
  private nextSlot = 0;

  record(sample: Sample): void {
    const slot = this.nextSlot;
    this.at[slot] = sample.at;
    this.states[slot] = STATE_CODES[sample.state];
    this.runMs[slot] = sample.runMs;
    this.waitMs[slot] = sample.waitMs ?? Number.NaN;
    this.nextSlot = (slot + 1) % MAX_SAMPLES;
  }

  /** One pass over the rings, in age order, no object per sample: it runs with every heartbeat. */
  snapshot(now: number, arrivalsPerSecond: number): PoolTaskStats {
    const since = now - WINDOW_MS;
    const counts = new Array<number>(STATES.length + 1).fill(0);
    let count = 0;
    let waited = 0;
    let oldest = now;
    for (let offset = 0; offset < MAX_SAMPLES; offset++) {
      const slot = (this.nextSlot + offset) % MAX_SAMPLES;
      const code = this.states[slot]!;
      if (code === 0 || this.at[slot]! <= since) continue;
      if (count === 0) oldest = this.at[slot]!;
      counts[code]!++;
      this.runsScratch[count++] = this.runMs[slot]!;
      const wait = this.waitMs[slot]!;
      if (!Number.isNaN(wait)) this.waitsScratch[waited++] = wait;
    }
    const outcomes: PoolTaskStats['outcomes'] = {};
    let ended = 0;
    for (const state of STATES) {
      const seen = counts[STATE_CODES[state]]!;
      if (seen === 0) continue;
      outcomes[state] = seen;
      if (state !== 'queued' && state !== 'retrying') ended += seen;
    }
    return {
      windowMs: WINDOW_MS,
      outcomes,
      completedPerSecond: (ended * 1000) / Math.max(1000, now - oldest),
      arrivalsPerSecond,
      waitMs: selectPercentiles(this.waitsScratch.subarray(0, waited)),
      runMs: selectPercentiles(this.runsScratch.subarray(0, count)),
    };
  }
}

/** The median and 95th percentile of `values`, as ranks (no interpolation); null for none. */
export function percentiles(values: ArrayLike<number>): { p50: number; p95: number } | null {
  return selectPercentiles(Float64Array.from(values));
}

/** As percentiles, reordering `values` in place. */
function selectPercentiles(values: Float64Array): { p50: number; p95: number } | null {
  const n = values.length;
  if (n === 0) return null;
  const rank = (q: number) => Math.min(n - 1, Math.ceil(q * n) - 1);
  const p50 = rank(0.5);
  const p95 = rank(0.95);
  selectRank(values, p50, 0, n - 1);
  // What lies above the median's rank is no smaller than it: the second selection only looks there.
  selectRank(values, p95, p50, n - 1);
  return { p50: values[p50]!, p95: values[p95]! };
}

/**
 * Moves the value of rank `k` (0-based, ascending) within [left, right] to
 * index k, smaller ones before it and larger ones after (Hoare's selection):
 * linear on average, where a sort of every sample is not.
 */
function selectRank(values: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    const pivot = values[(left + right) >>> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}
