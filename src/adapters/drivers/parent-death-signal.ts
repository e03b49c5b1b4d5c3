import { spawnSync } from 'node:child_process';

/**
 * How a worker process dies with its manager on Linux: the kernel sends it
 * SIGKILL when the manager's process ends (prctl PR_SET_PDEATHSIG), set by
 * util-linux's setpriv before it executes node. The kernel does it even while
 * the worker is deep in a synchronous handler, and it costs the worker
 * nothing, where the alternative, a watchdog thread in each worker (see
 * runtime/worker/parent-watchdog.ts), costs it a V8 isolate (10 MB here).
 * The signal follows the thread that forked the worker: a pool manager's
 * main thread, which lives as long as its process.
 */
export interface ParentDeathLauncher {
  /** The program fork() runs instead of node, and its arguments before node's own. */
  execPath: string;
  execArgv: string[];
}

let probed: ParentDeathLauncher | null | undefined;

/**
 * The launcher, or null where it cannot be used (not Linux, no setpriv, or
 * one older than util-linux 2.33 without --pdeathsig): asked once per
 * process, by running it.
 */
export function parentDeathLauncher(): ParentDeathLauncher | null {
  if (probed !== undefined) return probed;
  probed = null;
  if (process.platform !== 'linux') return probed;
  // setpriv running itself: a few milliseconds, where starting node would take a hundred.
  const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'setpriv', '--version'], { stdio: 'ignore', timeout: 5000 });
  if (probe.status === 0) probed = { execPath: 'setpriv', execArgv: ['--pdeathsig', 'KILL', '--', process.execPath] };
  return probed;
}
