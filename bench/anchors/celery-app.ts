import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { childPids, expectExited, waitForExit } from '../harness/processes.js';
import { exchangeExists, type ProductionStack } from '../harness/stack.js';
import { withTempDir } from '../harness/temp-dir.js';
import { sleep } from '../harness/time.js';

const run = promisify(execFile);

const CELERY_INSTALL_HINT = "install Debian's python3-celery (apt-get install python3-celery) to measure it";

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

/**
 * The Celery app, written into a temp dir at run time. Result-less (no
 * result backend, task_ignore_result), no events, no remote control, so
 * that Celery only moves tasks; otherwise Celery's defaults, as a user gets
 * them (early acks, prefetch multiplier 4, a durable classic queue,
 * persistent messages, JSON), on a queue and exchange of the run's own.
 *
 * How "done" is counted: each prefork child appends the time.time() at the
 * end of every task to a file of its own (done-<pid>.log, or
 * done-<batch>-<pid>.log for a burn task's batch, whose tasks also write
 * the CPU time burn_cpu took them to cpu-<batch>-<pid>.txt; line-buffered: one
 * write(2) per task, a few µs, next to Celery's hundreds per task). This is
 * the simplest honest clock: it needs no second service in the task's path
 * (a Redis INCR would add a network round trip to each task) and no event
 * stream (task events would add a publish to RabbitMQ per task, slowing the
 * very thing measured). Each line has a fixed width (LINE_BYTES), so the
 * bench sees progress from the files' sizes without reading them, and reads
 * the times once all are done.
 *
 * burn_cpu is the fixture's xorshift32 loop in Python: Celery's tasks are
 * Python, so its makespan is held against Python's own single-task time.
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

_logs = {}


def _log(name, ext):
    key = (name, os.getpid())
    log = _logs.get(key)
    if log is None:
        log = _logs[key] = open(os.path.join(OUT, '%s-%d.%s' % (name, os.getpid(), ext)), 'a', buffering=1)
    return log


def _done(name):
    _log(name, 'log').write('%.6f\n' % time.time())


def burn_cpu(iterations):
    x = 0x2545f491
    for _ in range(iterations):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
    return x


@app.task(name='noop')
def noop():
    _done('done')


@app.task(name='burn')
def burn(iterations, batch):
    start = time.process_time()
    burn_cpu(iterations)
    # Before the done line: once a batch's done lines are all there, so are its CPU times.
    _log('cpu-%s' % batch, 'txt').write('%.4f\n' % ((time.process_time() - start) * 1000))
    _done('done-%s' % batch)
`;

/** "1712345678.123456\n": seconds since the epoch, 6 decimals, until the year 2286. */
const LINE_BYTES = 18;

/** Exchanges a Celery worker may declare besides the queue's own: removed afterwards if this run made them. */
const CELERY_EXCHANGES = ['celeryev', 'celery.pidbox', 'reply.celery.pidbox', 'celery'];

/** A Celery app of the run's own: its interpreter, its files, and the environment its processes run with. */
export interface CeleryApp {
  python: string;
  dir: string;
  queue: string;
  /** Where the tasks' done files go. */
  outDir: string;
  env: NodeJS.ProcessEnv;
  /** Writes a script beside the app (it can `from gaffer_bench_celery import ...`); returns its path. */
  script(name: string, source: string): string;
  startWorker(cores: number): CeleryWorker;
}

export interface CeleryWorker {
  /**
   * Waits until the done files named `<name>-<pid>.log` hold `total` lines;
   * returns the lines done, fewer than `total` if no task was done for
   * STALL_MS while the queue was empty (Celery took them and never ran them).
   * Fails if the worker exits meanwhile.
   */
  waitForDone(name: string, total: number): Promise<number>;
  /** Warm shutdown: its pool children finish and exit, then the worker; fails if any of them is left. */
  stop(): Promise<void>;
}

/**
 * Runs `work` with a Celery app on a queue of the run's own, on the stack's
 * RabbitMQ, or says why it cannot (no python that imports celery).
 * Afterwards it removes the queue, its exchange, and any exchange Celery made
 * that was not there before.
 */
export async function withCeleryApp<T>(stack: ProductionStack, label: string, work: (app: CeleryApp) => Promise<T>): Promise<T | { skipped: string }> {
  const python = await findCeleryPython();
  if (python === undefined) {
    return { skipped: `Celery anchor skipped: no python can import celery (tried ${pythonCandidates().join(', ')}); ${CELERY_INSTALL_HINT}` };
  }
  const queue = stack.anchorQueue(label);
  const existedBefore = await stack.withChannel(async (model) => {
    const found = new Set<string>();
    for (const name of CELERY_EXCHANGES) if (await exchangeExists(model, name)) found.add(name);
    return found;
  });
  try {
    return await withTempDir(label, async (dir) => {
      fs.writeFileSync(path.join(dir, 'gaffer_bench_celery.py'), APP);
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
      const script = (name: string, source: string) => {
        const file = path.join(dir, name);
        fs.writeFileSync(file, source);
        return file;
      };
      const startWorker = (cores: number) => startCeleryWorker(stack, { python, dir, queue, outDir, env }, cores);
      return await work({ python, dir, queue, outDir, env, script, startWorker });
    });
  } finally {
    const made = await stack.withChannel(async (model) => {
      const found = [queue];
      for (const name of CELERY_EXCHANGES) if (!existedBefore.has(name) && (await exchangeExists(model, name))) found.push(name);
      return found;
    });
    await stack.deleteQueues([queue]);
    await stack.deleteExchanges(made);
  }
}

function startCeleryWorker(stack: ProductionStack, app: Omit<CeleryApp, 'script' | 'startWorker'>, cores: number): CeleryWorker {
  const args = ['-m', 'celery', '-A', 'gaffer_bench_celery', 'worker', '--pool=prefork', `--concurrency=${cores}`, '-Q', app.queue];
  args.push('--without-gossip', '--without-mingle', '--without-heartbeat', '--loglevel=WARNING', '-n', `${app.queue}@%h`);
  const worker = spawn(app.python, args, { cwd: app.dir, env: app.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  worker.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const untrack = stack.track(async () => {
    worker.kill('SIGTERM');
    await waitForExit(worker, 'the Celery worker', 5000);
  });
  const checkAlive = () => {
    if (worker.exitCode !== null || worker.signalCode !== null) {
      throw new Error(`the Celery worker exited (${worker.exitCode ?? worker.signalCode}) before its tasks were done: ${stderr.trim()}`);
    }
  };
  return {
    waitForDone: (name, total) => waitForDone(app.outDir, name, total, checkAlive, () => readyCount(stack, app.queue).then((ready) => ready === 0)),
    async stop() {
      untrack();
      // Its pool children, to check that they are gone too: those alive now, and those that wrote a file.
      const seenPids = new Set(childPids(worker.pid!));
      for (const file of fs.readdirSync(app.outDir)) seenPids.add(Number(/-(\d+)\.log$/.exec(file)?.[1] ?? 0));
      seenPids.delete(0);
      worker.kill('SIGTERM');
      await waitForExit(worker, 'the Celery worker', 30_000);
      await expectExited(seenPids, 'the Celery worker');
    },
  };
}

/**
 * How long Celery may go without finishing a task, its queue empty, before
 * the run counts as stalled: its prefork pool was seen here to stop with a
 * few hundred of 50,000 early-acked tasks taken and never run.
 */
export const STALL_MS = 15_000;

/** See CeleryWorker.waitForDone: progress by the files' sizes, `check` on each look. */
async function waitForDone(
  outDir: string,
  name: string,
  total: number,
  check: () => void,
  queueEmpty: () => Promise<boolean>,
  timeoutMs = 600_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = { bytes: -1, at: Date.now() };
  for (;;) {
    check();
    let bytes = 0;
    for (const file of filesNamed(outDir, name, 'log')) bytes += fs.statSync(file).size;
    if (bytes >= total * LINE_BYTES) return total;
    if (bytes !== last.bytes) last = { bytes, at: Date.now() };
    else if (Date.now() - last.at >= STALL_MS && (await queueEmpty())) return Math.floor(bytes / LINE_BYTES);
    if (Date.now() > deadline) throw new Error(`only ${Math.floor(bytes / LINE_BYTES)} of ${total} Celery tasks were done within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** The done times (ms since the epoch, sorted) in the files named `<name>-<pid>.log`. */
export function readDoneTimes(outDir: string, name: string): number[] {
  return readLines(outDir, name, 'log')
    .map((line) => Number(line) * 1000)
    .sort((a, b) => a - b);
}

/** The CPU time (ms) burn_cpu took each task of a batch in Celery's pool processes. */
export function readTaskCpuTimes(outDir: string, batch: string): number[] {
  return readLines(outDir, `cpu-${batch}`, 'txt').map(Number);
}

function readLines(outDir: string, name: string, ext: string): string[] {
  return filesNamed(outDir, name, ext).flatMap((file) => fs.readFileSync(file, 'utf8').trim().split('\n'));
}

/** The files `<name>-<pid>.<ext>`: one per pool process. */
function filesNamed(outDir: string, name: string, ext: string): string[] {
  const pattern = new RegExp(`^${name}-\\d+\\.${ext}$`);
  return fs
    .readdirSync(outDir)
    .filter((file) => pattern.test(file))
    .map((file) => path.join(outDir, file));
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
