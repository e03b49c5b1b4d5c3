import { fork } from 'node:child_process';
import type { WorkerChannel, WorkerDriver, WorkerExit, WorkerStartOptions } from '../../ports/worker-driver.js';
import { StderrTail } from './stderr-tail.js';

export interface LocalProcessDriverOptions {
  /** Where workers' stderr goes besides the crash-report tail; the manager's own stderr by default. */
  stderr?: NodeJS.WritableStream | null;
}

/** Worker processes as children of the pool manager (child_process.fork, JSON over IPC). */
export class LocalProcessDriver implements WorkerDriver {
  constructor(private readonly options: LocalProcessDriverOptions = {}) {}

  start(options: WorkerStartOptions): WorkerChannel {
    const child = fork(options.entry, [], {
      env: { ...process.env, ...options.env },
      // Not the manager's flags: a pool under `node --test` must not start test runners.
      execArgv: [],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
    });
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
