import { Worker } from 'node:worker_threads';

/**
 * A worker busy in a synchronous handler cannot notice that its pool manager
 * died (kill -9 closes the IPC channel, but no event runs until the handler
 * returns). This thread can: it checks the parent pid and kills the process
 * when the worker was orphaned, so no worker outlives its manager. It runs
 * only where the driver cannot have the kernel do that (see
 * adapters/drivers/parent-death-signal.ts): an isolate costs 10 MB a worker.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.ppid) process.kill(process.pid, 'SIGKILL');
}, workerData.intervalMs);
`;

export function startParentWatchdog(intervalMs = 250): void {
  const watchdog = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { ppid: process.ppid, intervalMs }, stdout: false, stderr: false });
  watchdog.unref();
}
