import fs from 'node:fs';
import { sleep } from './time.js';

/** Busy, stolen and total CPU ticks of the whole machine since boot, from /proc/stat. */
function machineTicks(): { busy: number; steal: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, steal: fields[7] ?? 0, total };
}

/** CPU ticks of a process (utime + stime), plus its waited-for descendants' (cutime + cstime) when asked; 0 once it is gone. */
export function processTicks(pid: number | 'self', withChildren: boolean): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // After the command name: state is field 3, so utime (14) is index 11 here.
    const own = fields[11]! + fields[12]!;
    return withChildren ? own + fields[13]! + fields[14]! : own;
  } catch {
    return 0;
  }
}

/** Ticks per second in /proc (USER_HZ, 100 on Linux). */
export const TICKS_PER_SECOND = 100;

/** Pids of the processes whose command name (/proc/<pid>/comm) is `comm`: "redis-server", "beam.smp" (RabbitMQ). */
export function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids;
}

/** CPU ticks of the services a scenario uses (Redis for BullMQ and the Redis store, RabbitMQ): their CPU is not someone else's. */
function serviceTicks(services: readonly string[]): number {
  let ticks = 0;
  for (const comm of services) for (const pid of pidsNamed(comm)) ticks += processTicks(pid, false);
  return ticks;
}

/** Share of the machine's CPU in use over `ms` (0..1), by anyone. */
async function machineBusyShare(ms: number): Promise<number> {
  const before = machineTicks();
  await sleep(ms);
  const after = machineTicks();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Waits (up to `maxWaitMs`) for the machine to be quiet before a scenario:
 * on a shared 2-core machine, someone else's test run halves every figure.
 * Returns the last busy share seen.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = 0.1): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await machineBusyShare(500);
  while (busy > threshold && Date.now() < deadline) busy = await machineBusyShare(500);
  return busy;
}

/**
 * Starts measuring the CPU that other processes take while a scenario runs:
 * the machine's busy time less this process's and its descendants' (all
 * reaped by the time the scenario ends) and the services' (Redis; RabbitMQ
 * too when gaffer runs on it: beam.smp). The returned function gives that as
 * a share of the machine (0..1).
 */
export function startInterferenceMeter(services: readonly string[] = ['redis-server']): () => number {
  const mine = () => processTicks('self', true) + serviceTicks(services);
  const machine0 = machineTicks();
  const mine0 = mine();
  return () => {
    const machine = machineTicks();
    const total = machine.total - machine0.total;
    const others = machine.busy - machine0.busy - (mine() - mine0);
    return total > 0 ? Math.max(0, others / total) : 0;
  };
}

/** Ticks the machine must have had before an absence share means anything: half a second of 2 cores. */
const MIN_TICKS_TO_TELL = TICKS_PER_SECOND;

/**
 * Starts measuring how much of the wall time the machine's CPUs were not
 * there at all: time the hypervisor gave to someone else, whether the guest
 * counts it as steal or, as on this VM, not at all (while paused, no tick of
 * any kind is counted). The returned function gives that as a share of
 * cores × wall (0..1). No figure can beat 1 minus it.
 */
export function startAbsenceMeter(cores: number): () => number {
  const ticks0 = machineTicks();
  const start = performance.now();
  return () => {
    const ticks = machineTicks();
    const expected = (cores * (performance.now() - start) * TICKS_PER_SECOND) / 1000;
    const present = ticks.total - ticks0.total - (ticks.steal - ticks0.steal);
    // Over a moment (a scenario with nothing to measure on this stack), counting whole ticks says nothing: 0, not 100%.
    return expected >= MIN_TICKS_TO_TELL ? Math.min(1, Math.max(0, 1 - present / expected)) : 0;
  };
}
