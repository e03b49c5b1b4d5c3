import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { betweenSingles, makespanEfficiency, type Calibration, type Warmup } from '../calibrate.js';
import { childPids, expectExited } from '../harness/processes.js';
import { median } from '../harness/time.js';
import { bullmqConnection, bullmqQueueName } from './bullmq-redis.js';
import type { MakespanRun } from './piscina-makespan.js';

const PROCESSOR = fileURLToPath(new URL('./bullmq-sandboxed-processor.js', import.meta.url));

/** addBulk takes the batch in slices of this many jobs (one Redis round trip and script call each). */
const ADD_SLICE = 1000;

/**
 * The anchor of the issues' "BullMQ sandboxed": a BullMQ Worker with
 * `cores` concurrency whose processor is a file, so that BullMQ runs each job
 * in a child process of its own pool (useWorkerThreads false, its default),
 * with BullMQ's defaults otherwise, as a user gets them. It runs the same
 * burnCpu batches as gaffer, warm-up first, and is timed the same way: from
 * just before the batch is added (addBulk) to the last 'completed' event.
 * Its queue is its own, and obliterated afterwards.
 */
export async function bullmqSandboxedMakespan(
  calibration: Calibration,
  count: number,
  cores: number,
  repeats: number,
  warmup: Warmup,
  redisUrl: string,
): Promise<{ efficiency: number; runs: MakespanRun[] } | { skipped: string }> {
  const redis = await bullmqConnection(redisUrl);
  if ('skipped' in redis) return { skipped: `${redis.skipped}: the BullMQ sandboxed anchor is skipped` };
  const { connection } = redis;
  const queue = new Queue(bullmqQueueName('sandboxed'), { connection });
  const othersBefore = new Set(childPids(process.pid));
  const sandboxPids = new Set<number>();
  const worker = new Worker(queue.name, PROCESSOR, { connection, concurrency: cores, useWorkerThreads: false });
  let batch: { left: number; lastAt: number; resolve(): void; reject(error: Error): void } | undefined;
  worker.on('completed', () => {
    if (!batch) return;
    batch.lastAt = performance.now();
    if (--batch.left === 0) batch.resolve();
  });
  worker.on('failed', (job, error) => batch?.reject(new Error(`BullMQ sandboxed job ${job?.id} failed: ${error.message}`)));
  worker.on('error', (error) => batch?.reject(error));

  const runBatch = async (n: number, iterations: number): Promise<number> => {
    const start = performance.now();
    const done = new Promise<number>((resolve, reject) => {
      const current = { left: n, lastAt: start, resolve: () => resolve(current.lastAt), reject };
      batch = current;
    });
    for (let i = 0; i < n; i += ADD_SLICE) {
      await queue.addBulk(Array.from({ length: Math.min(ADD_SLICE, n - i) }, () => ({ name: 'burn', data: { iterations } })));
    }
    const lastAt = await done;
    batch = undefined;
    for (const pid of childPids(process.pid)) if (!othersBefore.has(pid)) sandboxPids.add(pid);
    return lastAt - start;
  };

  try {
    for (const { count: n, iterations } of warmup.filter(({ count: n }) => n > 0)) await runBatch(n, iterations);
    const runs: MakespanRun[] = [];
    for (let r = 0; r < repeats; r++) {
      const { result: wallMs, singleMs, hostAbsentShare } = await betweenSingles(calibration, cores, () => runBatch(count, calibration.iterations));
      runs.push({ wallMs, singleMs, hostAbsentShare, efficiency: makespanEfficiency(count, singleMs, cores, wallMs) });
    }
    return { efficiency: median(runs.map((run) => run.efficiency)), runs };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await expectExited(sandboxPids, 'the BullMQ sandboxed anchor');
  }
}
