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

export async function startParentWatchdog(intervalMs = 250): Promise<void> {
  // Imported here, not at the top: where the kernel watches for the worker (Linux), node's worker_threads module would
  // only add milliseconds to every worker's start.
  const { Worker } = await import('node:worker_threads');
  const watchdog = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { ppid: process.ppid, intervalMs }, stdout: false, stderr: false });
  watchdog.unref();
}
