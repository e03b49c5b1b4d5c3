import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { betweenSingles, makespanEfficiency, type Calibration, type Warmup } from '../calibrate.js';
import { median } from '../harness/time.js';

const WORKER = fileURLToPath(new URL('./piscina-worker.js', import.meta.url));

export interface MakespanRun {
  efficiency: number;
  wallMs: number;
  /** t_single measured around this run (betweenSingles): the ideal it is held against. */
  singleMs: number;
  /** Share of the run's time the host kept the CPUs away: the run could not beat 1 minus it. */
  hostAbsentShare: number;
}

/**
 * The anchor: Piscina (worker threads, in-process, no durable queue) runs the
 * same burnCpu batch on `cores` threads, timed the same way: from handing
 * over the batch to the last result.
 */
export async function piscinaMakespan(calibration: Calibration, count: number, cores: number, repeats: number, warmup: Warmup): Promise<{ efficiency: number; runs: MakespanRun[] }> {
  const pool = new Piscina({ filename: WORKER, minThreads: cores, maxThreads: cores });
  try {
    const task = { iterations: calibration.iterations };
    for (const { count: n, iterations } of warmup) await Promise.all(Array.from({ length: n }, () => pool.run({ iterations })));
    const runs: MakespanRun[] = [];
    for (let r = 0; r < repeats; r++) {
      const { result: wallMs, singleMs, hostAbsentShare } = await betweenSingles(calibration, cores, async () => {
        const start = performance.now();
        let last = start;
        await Promise.all(Array.from({ length: count }, () => pool.run(task).then(() => (last = performance.now()))));
        return last - start;
      });
      runs.push({ wallMs, singleMs, hostAbsentShare, efficiency: makespanEfficiency(count, singleMs, cores, wallMs) });
    }
    const efficiency = median(runs.map((run) => run.efficiency));
    return { efficiency, runs };
  } finally {
    await pool.destroy();
    if (pool.threads.length > 0) throw new Error(`piscina left ${pool.threads.length} thread(s) running`);
  }
}
