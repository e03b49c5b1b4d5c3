import fs from 'node:fs';

/**
 * How many times this process's main thread has gone to sleep and been woken
 * (its voluntary context switches, /proc/<pid>/task/<pid>/status), or NaN
 * where /proc does not say. A pool manager between tasks of tens of
 * milliseconds pays more for each wake-up (cold caches, a worker preempted)
 * than for much of the work it then does: wake-ups per task explain its CPU
 * per task, and move far less from run to run than a makespan's efficiency.
 */
export function mainThreadWakes(): number {
  try {
    const status = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8');
    const match = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status);
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
