import { burnCpu } from '../test/fixtures/tasks.js';
import { startAbsenceMeter } from './harness/quiet.js';
import { median } from './harness/time.js';

export interface Calibration {
  /** Task size asked for. */
  targetMs: number;
  /** burnCpu iterations that take about targetMs here. */
  iterations: number;
  /** Median time of one burnCpu(iterations) in this process, warm: t_single. */
  singleMs: number;
  samples: number;
}

/** Batches of burnCpu tasks run before a makespan's timed runs, in order: `count` tasks of `iterations` each. */
export type Warmup = ReadonlyArray<{ count: number; iterations: number }>;

let sink = 0;

function timeOnce(iterations: number): number {
  const start = performance.now();
  // Kept in a module variable so that the call cannot be dropped as dead code.
  sink ^= burnCpu(iterations);
  return performance.now() - start;
}

/**
 * How many burnCpu iterations take ~targetMs in this process, and how long
 * exactly that takes (median of `samples` runs after warm-up): the ideal the
 * makespan figures are measured against. Measured, never assumed, because the
 * speed of the machine is what is being divided out.
 */
export function calibrate(targetMs: number, samples: number): Calibration {
  let iterations = 100_000;
  // Warm-up: let V8 optimize burnCpu before any time counts.
  for (let i = 0; i < 20; i++) timeOnce(iterations);
  // Converge on the size: a few rounds of rescaling by the median of 3.
  for (let round = 0; round < 5; round++) {
    const ms = median([timeOnce(iterations), timeOnce(iterations), timeOnce(iterations)]);
    iterations = Math.max(1, Math.round((iterations * targetMs) / ms));
  }
  const calibration = { targetMs, iterations, singleMs: 0, samples };
  calibration.singleMs = timeSingle(calibration);
  return calibration;
}

/**
 * t_single again, now: the median of `samples` runs of burnCpu(iterations).
 * This machine's speed drifts by several percent within a minute (a shared
 * host), so each makespan run is measured against the t_single taken right
 * around it, not against the one from the start of the scenario.
 */
export function timeSingle(calibration: Calibration): number {
  const times: number[] = [];
  for (let i = 0; i < calibration.samples; i++) times.push(timeOnce(calibration.iterations));
  if (sink === 0.5) console.log(sink); // never true; reads the sink
  return median(times);
}

/**
 * Runs `run` between two measurements of t_single, and returns their mean
 * with its result, and the share of the run's time the host kept the
 * `cores` CPUs away (startAbsenceMeter): t_single is a median, which such
 * pauses do not move, while the run's wall time takes them all.
 */
export async function betweenSingles<T>(
  calibration: Calibration,
  cores: number,
  run: () => Promise<T>,
): Promise<{ result: T; singleMs: number; hostAbsentShare: number }> {
  const before = timeSingle(calibration);
  const absence = startAbsenceMeter(cores);
  const result = await run();
  const hostAbsentShare = absence();
  const after = timeSingle(calibration);
  return { result, singleMs: (before + after) / 2, hostAbsentShare };
}

/** Makespan efficiency: the ideal (every core busy with the work alone) over the measured wall time. */
export function makespanEfficiency(count: number, singleMs: number, cores: number, wallMs: number): number {
  return (count * singleMs) / cores / wallMs;
}
