import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { makespanEfficiency, type Calibration, type Warmup } from '../calibrate.js';
import { waitForExit } from '../harness/processes.js';
import { startAbsenceMeter } from '../harness/quiet.js';
import type { ProductionStack } from '../harness/stack.js';
import { median } from '../harness/time.js';
import { readDoneTimes, readTaskCpuTimes, STALL_MS, withCeleryApp, type CeleryApp, type CeleryWorker } from './celery-app.js';
import type { MakespanRun } from './piscina-makespan.js';

/**
 * A Python process that stays up for the whole anchor, so that no
 * interpreter start is timed: it sizes Python's burn_cpu for the shape, and
 * publishes batches of burn tasks. It answers each command on stdin with one
 * line of JSON.
 */
const DRIVER = String.raw`
import json
import statistics
import sys
import time
import celery
from gaffer_bench_celery import app, burn, burn_cpu


def timed(iterations):
    start = time.perf_counter()
    burn_cpu(iterations)
    return (time.perf_counter() - start) * 1000


def calibrate(target_ms):
    # Rescaled by the median of 5 until it lands within 2% of the target: one slow timing (an interrupt, the other
    # core's work) must not leave the tasks a third short, as a median of 3 once did here.
    iterations = 10000
    for _ in range(12):
        ms = statistics.median(timed(iterations) for _ in range(5))
        iterations = max(1, round(iterations * target_ms / ms))
        if abs(ms - target_ms) <= 0.02 * target_ms:
            break
    return {'iterations': iterations, 'version': celery.__version__}


for line in sys.stdin:
    command = line.split()
    if command[0] == 'calibrate':
        answer = calibrate(float(command[1]))
    elif command[0] == 'publish':
        count, iterations, batch = int(command[1]), int(command[2]), command[3]
        with app.producer_or_acquire() as producer:
            started = time.time()
            for _ in range(count):
                burn.apply_async((iterations, batch), producer=producer)
        answer = {'startedAt': started * 1000}
    print(json.dumps(answer), flush=True)
`;

export type CeleryMakespan = { efficiency: number; runs: MakespanRun[]; version: string; iterations: number } | { skipped: string };

/**
 * The anchor of the issues' "Celery prefork": Celery's prefork pool with
 * `cores` processes on the stack's RabbitMQ (see celery-app.ts for its
 * settings: Celery's defaults), running Python's burn_cpu batches of the
 * shape's size; its warm-up is gaffer's, task for task, sized in
 * milliseconds. A run is timed from just before the first publish to the last
 * task's end.
 *
 * Its t_single is the median CPU time burn_cpu took a task of the run, in the
 * pool processes themselves (time.process_time): timed by another Python
 * process, it came out 30% above or below what the pool's own tasks took, from
 * one run to the next here, where Node's timings agree with its workers' to a
 * few percent.
 */
export async function celeryMakespan(
  stack: ProductionStack,
  calibration: Calibration,
  count: number,
  cores: number,
  repeats: number,
  warmup: Warmup,
): Promise<CeleryMakespan> {
  return withCeleryApp(stack, 'celery-makespan', async (app): Promise<CeleryMakespan> => {
    const driver = startDriver(app);
    let worker: CeleryWorker | undefined;
    try {
      // Sized before the worker starts: its start-up would slow the timings down.
      const python = (await driver.ask(`calibrate ${calibration.targetMs}`)) as { iterations: number; version: string };
      const running = app.startWorker(cores);
      worker = running;
      let batches = 0;
      const runBatch = async (n: number, iterations: number): Promise<{ wallMs: number; taskCpuMs: number } | { lost: number }> => {
        const label = `b${batches++}`;
        const name = `done-${label}`;
        const { startedAt } = (await driver.ask(`publish ${n} ${iterations} ${label}`)) as { startedAt: number };
        const done = await running.waitForDone(name, n);
        if (done < n) return { lost: n - done };
        return { wallMs: readDoneTimes(app.outDir, name).at(-1)! - startedAt, taskCpuMs: median(readTaskCpuTimes(app.outDir, label)) };
      };
      const lostNote = (lost: number, n: number) => ({
        skipped: `Celery's worker never ran ${lost} of a batch of ${n} tasks (nothing done for ${STALL_MS / 1000} s, its queue empty: early-acked and lost); the Celery anchor is skipped`,
      });

      // The pool's own CPU time per task in each warm-up batch resizes the tasks for the shape: the driver's sizing
      // alone left the 20 ms tasks at 13 ms once, on a machine whose speed had moved.
      let iterations = python.iterations;
      for (const { count: n, iterations: nodeIterations } of warmup.filter(({ count: n }) => n > 0)) {
        const sized = Math.max(1, Math.round((nodeIterations / calibration.iterations) * iterations));
        const batch = await runBatch(n, sized);
        if ('lost' in batch) return lostNote(batch.lost, n);
        iterations = Math.max(1, Math.round((sized / batch.taskCpuMs) * calibration.targetMs));
      }
      const runs: MakespanRun[] = [];
      for (let r = 0; r < repeats; r++) {
        const absence = startAbsenceMeter(cores);
        const batch = await runBatch(count, iterations);
        const hostAbsentShare = absence();
        if ('lost' in batch) return lostNote(batch.lost, count);
        const { wallMs, taskCpuMs: singleMs } = batch;
        runs.push({ wallMs, singleMs, hostAbsentShare, efficiency: makespanEfficiency(count, singleMs, cores, wallMs) });
      }
      return { efficiency: median(runs.map((run) => run.efficiency)), runs, version: python.version, iterations };
    } finally {
      await driver.close();
      await worker?.stop();
    }
  });
}

function startDriver(app: CeleryApp) {
  const child = spawn(app.python, [app.script('driver.py', DRIVER)], { cwd: app.dir, env: app.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async ask(command: string): Promise<unknown> {
      child.stdin!.write(`${command}\n`);
      const next = await lines.next();
      if (next.done) throw new Error(`the Celery bench driver exited (${child.exitCode ?? child.signalCode}) on "${command}": ${stderr.trim()}`);
      return JSON.parse(next.value);
    },
    async close(): Promise<void> {
      child.stdin!.end();
      await waitForExit(child, 'the Celery bench driver', 10_000);
    },
  };
}
