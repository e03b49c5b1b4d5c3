import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DrainMeter } from '../harness/drain-meter.js';
import type { ProductionStack } from '../harness/stack.js';
import { epochNow } from '../harness/time.js';
import { readDoneTimes, STALL_MS, withCeleryApp } from './celery-app.js';

const run = promisify(execFile);

export type CeleryResult =
  | (ReturnType<DrainMeter['result']> & {
      version: string;
      python: string;
      publishMs: number;
      firstToLastRate: number;
      prefetch: number;
      /** Set when Celery's worker stopped short of the backlog: the rate is over the tasks it did. */
      stalled?: string;
    })
  | { skipped: string };

const PUBLISH = String.raw`
import sys
import celery
from gaffer_bench_celery import app, noop

count = int(sys.argv[1])
# One producer (one connection and channel) for the whole backlog: Celery's fast path for many sends.
with app.producer_or_acquire() as producer:
    for _ in range(count):
        noop.apply_async(producer=producer)
print(celery.__version__)
`;

/**
 * The Celery anchor: Celery's prefork pool with `cores` processes, on the
 * same RabbitMQ. The backlog is published first (by a Python producer, not
 * timed), then the worker starts and drains it; the same meter as gaffer's
 * times it from the first done task after the warm-up quarter to the last.
 * Skipped, with a note, when python3 cannot import celery.
 */
export async function celeryThroughput(stack: ProductionStack, total: number, warmup: number, cores: number): Promise<CeleryResult> {
  return withCeleryApp(stack, 'celery', async (app) => {
    const publishStart = performance.now();
    const published = await run(app.python, [app.script('publish.py', PUBLISH), String(total)], { cwd: app.dir, env: app.env, timeout: 600_000 });
    const publishMs = performance.now() - publishStart;
    const version = published.stdout.trim();

    const workerStartedAt = epochNow();
    const worker = app.startWorker(cores);
    let stalled: string | undefined;
    try {
      const done = await worker.waitForDone('done', total);
      if (done < total) {
        stalled =
          `Celery's worker stopped after ${done} of ${total} tasks (nothing done for ${STALL_MS / 1000} s, its queue empty: ` +
          `the rest was taken off the queue and never run); its rate is over the tasks it did`;
      }
    } finally {
      await worker.stop();
    }

    const times = readDoneTimes(app.outDir, 'done');
    if (times.length !== total && stalled === undefined) throw new Error(`Celery reported ${times.length} tasks done, not ${total}`);
    const meter = new DrainMeter(times.length, warmup);
    for (const at of times) meter.complete(at);
    const prefetch = 4 * cores;
    const firstToLastRate = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    return { ...meter.result(workerStartedAt), version, python: app.python, publishMs, firstToLastRate, prefetch, ...(stalled ? { stalled } : {}) };
  });
}
