import { fork } from 'node:child_process';
import os from 'node:os';
import type { WorkerChannel, WorkerDriver, WorkerExit, WorkerStartOptions } from '../../ports/worker-driver.js';
import { parentDeathLauncher, type ParentDeathLauncher } from './parent-death-signal.js';
import { StderrTail } from './stderr-tail.js';

export interface LocalProcessDriverOptions {
  /** Where workers' stderr goes besides the crash-report tail; the manager's own stderr by default. */
  stderr?: NodeJS.WritableStream | null;
  /**
   * How much nicer than the manager workers run (0 to 19). CPU-bound workers
   * fill every core; a little less priority lets the manager, which only
   * coordinates, run the moment a worker answers, instead of waiting for a
   * time slice (measured here: 0.4 ms less idle per task).
   */
  niceness?: number;
  /**
   * Have the kernel kill workers when the manager's process ends, where it
   * can (Linux with util-linux's setpriv; see parent-death-signal.ts). True
   * by default; false, or where it cannot, every worker runs a watchdog thread.
   */
  parentDeathSignal?: boolean;
}

/** How much nicer than their manager workers run unless told otherwise. */
export const DEFAULT_NICENESS = 5;

/** Worker processes as children of the pool manager (child_process.fork, JSON over IPC). */
export class LocalProcessDriver implements WorkerDriver {
  readonly killsOrphans: boolean;
  private readonly launcher: ParentDeathLauncher | null;

  constructor(private readonly options: LocalProcessDriverOptions = {}) {
    this.launcher = options.parentDeathSignal === false ? null : parentDeathLauncher();
    this.killsOrphans = this.launcher !== null;
  }

  start(options: WorkerStartOptions): WorkerChannel {
    const child = fork(options.entry, [], {
      env: { ...process.env, ...options.env },
      // Not the manager's flags (a pool under `node --test` must not start test runners); the launcher's, if any.
      ...(this.launcher ?? { execArgv: [] }),
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
    });
    setNiceness(child.pid, this.options.niceness ?? DEFAULT_NICENESS);
    const tail = new StderrTail();
    const forward = this.options.stderr === undefined ? process.stderr : this.options.stderr;
    child.stderr?.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      forward?.write(chunk);
    });
    // A send racing with an exit fails with EPIPE; the exit handler decides what that means.
    child.on('error', () => {});
    const exitListeners: Array<(exit: WorkerExit) => void> = [];
    let exited: WorkerExit | undefined;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // stderr may still hold the last words of a crash: report once it is drained,
      // or soon anyway (a grandchild may hold the pipe open).
      let reported = false;
      const report = () => {
        if (reported) return;
        reported = true;
        clearTimeout(fallback);
        exitListeners.forEach((listener) => listener(exited!));
      };
      const fallback = setTimeout(report, 200);
      if (child.stderr && !child.stderr.closed) child.stderr.once('close', report);
      else report();
    });

    return {
      pid: child.pid ?? -1,
      send: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: (signal) => {
        if (!exited) child.kill(signal);
      },
      stderrTail: () => tail.text(),
    };
  }
}

/** Runs the process `niceness` nicer than this one, where that is permitted. */
export function setNiceness(pid: number | undefined, niceness: number): void {
  if (pid === undefined || niceness === 0) return;
  try {
    os.setPriority(pid, Math.min(19, os.getPriority() + niceness));
  } catch {
    // Not permitted here (some containers): workers keep the manager's priority.
  }
}
