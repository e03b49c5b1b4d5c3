import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_NICENESS, setNiceness } from '../../src/adapters/drivers/local-process-driver.js';
import { betweenSingles, makespanEfficiency, type Calibration, type Warmup } from '../calibrate.js';
import { expectExited, waitForExit } from '../harness/processes.js';
import { mainThreadWakes } from '../harness/main-thread-wakes.js';
import { median } from '../harness/time.js';
import type { MakespanRun } from './piscina-makespan.js';
import type { TaskJournal } from './task-journal.js';

const WORKER = fileURLToPath(new URL('./fork-pool-worker.js', import.meta.url));

/** What a batch took: wall time to the last answer, and the parent's CPU and wake-ups per task meanwhile. */
export interface ForkPoolBatch {
  wallMs: number;
  parentCpuMicrosPerTask: number;
  parentWakesPerTask: number;
}

export type ForkPoolRun = MakespanRun & Omit<ForkPoolBatch, 'wallMs'>;

/**
 * What a pool of worker processes reaches on this machine at best: `cores`
 * children forked with JSON IPC and niced as gaffer's are, each kept one
 * burnCpu task ahead by a parent that does nothing else (no queue, no store,
 * no record of anything). What it loses against the ideal is what processes, their IPC
 * and their wake-ups cost here; what gaffer loses beyond it is gaffer's own.
 *
 * With a `journal`, the parent also does the least a durable queue does for
 * each task (TaskJournal): each batch is written first, inside the timed run
 * as gaffer's enqueue is, and each task is claimed durably before its child
 * gets it and recorded before the next is claimed. What that pool loses
 * beyond the bare one is what durability costs on this machine, whoever
 * provides it.
 */
export async function forkPoolMakespan(
  calibration: Calibration,
  count: number,
  cores: number,
  repeats: number,
  warmup: Warmup,
  journal?: TaskJournal,
): Promise<{ efficiency: number; runs: ForkPoolRun[] }> {
  const children = Array.from({ length: cores }, () => {
    const child = fork(WORKER, [], { serialization: 'json', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    // As gaffer's workers run: the parent's hand-out never waits behind a child's time slice.
    setNiceness(child.pid, DEFAULT_NICENESS);
    return child;
  });
  try {
    await Promise.all(children.map((child) => once(child, (message) => (message as { ready?: boolean }).ready === true)));
    for (const { count: n, iterations } of warmup) await runBatch(children, n, iterations, journal);
    const runs: ForkPoolRun[] = [];
    for (let r = 0; r < repeats; r++) {
      const { result: batch, singleMs, hostAbsentShare } = await betweenSingles(calibration, cores, () => runBatch(children, count, calibration.iterations, journal));
      runs.push({ ...batch, singleMs, hostAbsentShare, efficiency: makespanEfficiency(count, singleMs, cores, batch.wallMs) });
    }
    return { efficiency: median(runs.map((run) => run.efficiency)), runs };
  } finally {
    for (const child of children) if (child.connected) child.disconnect();
    await Promise.allSettled(children.map((child) => waitForExit(child, 'a fork-pool child', 5000)));
    await expectExited(children.map((child) => child.pid!).filter(Boolean), 'the fork-pool anchor');
  }
}

/** Runs `count` tasks over the children, each holding its running task and one more; through the journal if there is one. */
async function runBatch(children: readonly ChildProcess[], count: number, iterations: number, journal?: TaskJournal): Promise<ForkPoolBatch> {
  const cpuBefore = process.cpuUsage();
  const wakesBefore = mainThreadWakes();
  const start = performance.now();
  await journal?.enqueue(count, iterations);
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    const cleanups: Array<() => void> = [];
    const finish = (error?: Error) => {
      cleanups.forEach((cleanup) => cleanup());
      if (error) reject(error);
      else resolve();
    };
    for (const child of children) {
      // Bare: the next task goes at once. With a journal: the answer is recorded and the next task claimed first.
      const send = journal
        ? (doneId?: string) => {
            const claimNext = sent < count;
            if (claimNext) sent++;
            journal.advance(doneId, claimNext).then((task) => {
              if (doneId !== undefined && ++answered === count) finish();
              if (task) child.send(task);
            }, finish);
          }
        : () => {
            if (sent < count) child.send({ id: String(sent++), iterations });
          };
      const onMessage = (message: { id: string }) => {
        if (journal) return send(message.id);
        if (++answered === count) return finish();
        send();
      };
      const onExit = (code: number | null) => finish(new Error(`a fork-pool child exited (${code}) in the middle of a batch`));
      child.on('message', onMessage);
      child.on('exit', onExit);
      cleanups.push(() => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      });
      send();
      send();
    }
  });
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, parentCpuMicrosPerTask: (cpu.user + cpu.system) / count, parentWakesPerTask: (mainThreadWakes() - wakesBefore) / count };
}

function once(child: ChildProcess, accept: (message: unknown) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!accept(message)) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve();
    };
    const onExit = (code: number | null) => reject(new Error(`a fork-pool child exited (${code}) before it was ready`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
