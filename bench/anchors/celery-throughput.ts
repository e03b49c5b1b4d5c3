import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DrainMeter } from '../harness/drain-meter.js';
import { childPids, expectExited, waitForExit } from '../harness/processes.js';
import { exchangeExists, type ProductionStack } from '../harness/stack.js';
import { withTempDir } from '../harness/temp-dir.js';
import { epochNow, sleep } from '../harness/time.js';

const run = promisify(execFile);

export const CELERY_INSTALL_HINT = "install Debian's python3-celery (apt-get install python3-celery) to measure it";

/**
 * The interpreters tried, in order: GAFFER_BENCH_PYTHON if set, the python3
 * on PATH, and Debian's own, which is where python3-celery installs (a
 * pyenv or venv python3 first on PATH does not see Debian's packages).
 */
function pythonCandidates(): string[] {
  return [...new Set([process.env.GAFFER_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p)))];
}

async function findCeleryPython(): Promise<string | undefined> {
  for (const python of pythonCandidates()) {
    try {
      await run(python, ['-c', 'import celery'], { timeout: 30_000 });
      return python;
    } catch {
      // Not here (or no such interpreter): the next.
    }
  }
  return undefined;
}

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

/**
 * The Celery app, written into a temp dir at run time. Result-less (no
 * result backend, task_ignore_result), no events, no remote control, so
 * that Celery only moves tasks; otherwise Celery's defaults, as a user gets
 * them (early acks, prefetch multiplier 4, a durable classic queue,
 * persistent messages, JSON), on a queue and exchange of the run's own.
 *
 * How "done" is counted: each prefork child appends the time.time() at the
 * end of every task to a file of its own (done-<pid>.log, line-buffered:
 * one write(2) per task, a few µs, next to Celery's hundreds per task).
 * This is the simplest honest clock: it needs no second service in the
 * task's path (a Redis INCR would add a network round trip to each task)
 * and no event stream (task events would add a publish to RabbitMQ per
 * task, slowing the very thing measured). Each line has a fixed width, so
 * the bench sees progress from the files' sizes without reading them, and
 * reads the times once all are done.
 */
const APP = String.raw`
import os
import time
from celery import Celery

QUEUE = os.environ['GAFFER_BENCH_CELERY_QUEUE']
OUT = os.environ['GAFFER_BENCH_CELERY_DIR']

app = Celery('gaffer_bench_celery', broker=os.environ['GAFFER_BENCH_CELERY_BROKER'])
app.conf.update(
    task_ignore_result=True,
    result_backend=None,
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=QUEUE,
    worker_enable_remote_control=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
    worker_hijack_root_logger=False,
)

_log = None
_log_pid = None


@app.task(name='noop')
def noop():
    global _log, _log_pid
    if _log_pid != os.getpid():
        _log = open(os.path.join(OUT, 'done-%d.log' % os.getpid()), 'a', buffering=1)
        _log_pid = os.getpid()
    _log.write('%.6f\n' % time.time())
`;

/** "1712345678.123456\n": seconds since the epoch, 6 decimals, until the year 2286. */
const LINE_BYTES = 18;

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

/** Exchanges a Celery worker may declare besides the queue's own: removed afterwards if this run made them. */
const CELERY_EXCHANGES = ['celeryev', 'celery.pidbox', 'reply.celery.pidbox', 'celery'];

/**
 * The Celery anchor: Celery's prefork pool with `cores` processes, on the
 * same RabbitMQ. The backlog is published first (by a Python producer, not
 * timed), then the worker starts and drains it; the same meter as gaffer's
 * times it from the first done task after the warm-up quarter to the last.
 * Skipped, with a note, when python3 cannot import celery.
 */
export async function celeryThroughput(stack: ProductionStack, total: number, warmup: number, cores: number): Promise<CeleryResult> {
  const python = await findCeleryPython();
  if (python === undefined) {
    return { skipped: `Celery anchor skipped: no python can import celery (tried ${pythonCandidates().join(', ')}); ${CELERY_INSTALL_HINT}` };
  }
  const queue = stack.anchorQueue('celery');
  const existedBefore = await stack.withChannel(async (model) => {
    const found = new Set<string>();
    for (const name of CELERY_EXCHANGES) if (await exchangeExists(model, name)) found.add(name);
    return found;
  });
  try {
    return await withTempDir('celery', async (dir) => {
      fs.writeFileSync(path.join(dir, 'gaffer_bench_celery.py'), APP);
      fs.writeFileSync(path.join(dir, 'publish.py'), PUBLISH);
      const outDir = path.join(dir, 'done');
      fs.mkdirSync(outDir);
      const env = {
        ...process.env,
        PYTHONPATH: [dir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
        PYTHONDONTWRITEBYTECODE: '1',
        GAFFER_BENCH_CELERY_QUEUE: queue,
        GAFFER_BENCH_CELERY_DIR: outDir,
        GAFFER_BENCH_CELERY_BROKER: stack.amqpUrl,
      };

      const publishStart = performance.now();
      const published = await run(python, [path.join(dir, 'publish.py'), String(total)], { cwd: dir, env, timeout: 600_000 });
      const publishMs = performance.now() - publishStart;
      const version = published.stdout.trim();

      const args = ['-m', 'celery', '-A', 'gaffer_bench_celery', 'worker', '--pool=prefork', `--concurrency=${cores}`, '-Q', queue];
      args.push('--without-gossip', '--without-mingle', '--without-heartbeat', '--loglevel=WARNING', '-n', `${queue}@%h`);
      const workerStartedAt = epochNow();
      const worker = spawn(python, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      worker.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      const untrack = stack.track(async () => {
        worker.kill('SIGTERM');
        await waitForExit(worker, 'the Celery worker', 5000);
      });
      const seenPids = new Set<number>();
      let stalled: string | undefined;
      try {
        const done = await waitForDone(outDir, total, () => {
          if (worker.exitCode !== null || worker.signalCode !== null) {
            throw new Error(`the Celery worker exited (${worker.exitCode ?? worker.signalCode}) before its ${total} tasks were done: ${stderr.trim()}`);
          }
        }, () => readyCount(stack, queue).then((ready) => ready === 0));
        if (done < total) {
          stalled =
            `Celery's worker stopped after ${done} of ${total} tasks (nothing done for ${STALL_MS / 1000} s, its queue empty: ` +
            `the rest was taken off the queue and never run); its rate is over the tasks it did`;
        }
      } finally {
        untrack();
        // Its pool children, to check that they are gone too: those alive now, and those that wrote a file.
        for (const pid of childPids(worker.pid!)) seenPids.add(pid);
        for (const file of fs.readdirSync(outDir)) seenPids.add(Number(/^done-(\d+)\.log$/.exec(file)?.[1] ?? 0));
        seenPids.delete(0);
        // Warm shutdown: the pool children finish and exit, then the main process.
        worker.kill('SIGTERM');
        await waitForExit(worker, 'the Celery worker', 30_000);
        await expectExited(seenPids, 'the Celery worker');
      }

      const times = fs
        .readdirSync(outDir)
        .flatMap((file) => fs.readFileSync(path.join(outDir, file), 'utf8').trim().split('\n'))
        .map((line) => Number(line) * 1000)
        .sort((a, b) => a - b);
      if (times.length !== total && stalled === undefined) throw new Error(`Celery reported ${times.length} tasks done, not ${total}`);
      const meter = new DrainMeter(times.length, warmup);
      for (const at of times) meter.complete(at);
      const prefetch = 4 * cores;
      const firstToLastRate = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
      return { ...meter.result(workerStartedAt), version, python, publishMs, firstToLastRate, prefetch, ...(stalled ? { stalled } : {}) };
    });
  } finally {
    // The queue, its exchange (named after it) and any exchange Celery made that was not there before.
    const made = await stack.withChannel(async (model) => {
      const found = [queue];
      for (const name of CELERY_EXCHANGES) if (!existedBefore.has(name) && (await exchangeExists(model, name))) found.push(name);
      return found;
    });
    await stack.deleteQueues([queue]);
    await stack.deleteExchanges(made);
  }
}

/** Messages ready in the queue (not those a consumer holds). */
function readyCount(stack: ProductionStack, queue: string): Promise<number> {
  return stack.withChannel(async (model) => {
    const channel = await model.createChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } finally {
      await channel.close().catch(() => {});
    }
  });
}

/**
 * How long Celery may go without finishing a task, its queue empty, before
 * the run counts as stalled: its prefork pool was seen here to stop with a
 * few hundred of 50,000 early-acked tasks taken and never run.
 */
const STALL_MS = 15_000;

/**
 * Waits until the children's files hold `total` lines (by size), calling
 * `check` on each look; returns the lines done, fewer than `total` if no task
 * was done for STALL_MS while `queueEmpty` says nothing is left to take.
 */
async function waitForDone(dir: string, total: number, check: () => void, queueEmpty: () => Promise<boolean>, timeoutMs = 600_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = { bytes: -1, at: Date.now() };
  for (;;) {
    check();
    let bytes = 0;
    for (const file of fs.readdirSync(dir)) bytes += fs.statSync(path.join(dir, file)).size;
    if (bytes >= total * LINE_BYTES) return total;
    if (bytes !== last.bytes) last = { bytes, at: Date.now() };
    else if (Date.now() - last.at >= STALL_MS && (await queueEmpty())) return Math.floor(bytes / LINE_BYTES);
    if (Date.now() > deadline) throw new Error(`only ${Math.floor(bytes / LINE_BYTES)} of ${total} Celery tasks were done within ${timeoutMs} ms`);
    await sleep(100);
  }
}
