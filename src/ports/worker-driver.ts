/**
 * Starts worker processes. The pool manager speaks its IPC protocol over the
 * channel; the driver only moves messages and reports exits.
 */
export interface WorkerDriver {
  /**
   * Whether the workers it starts die by themselves when the manager's
   * process ends, even in the middle of a synchronous handler (the kernel
   * kills them). Where they do not, each worker watches its parent.
   */
  readonly killsOrphans: boolean;
  start(options: WorkerStartOptions): WorkerChannel;
}

export interface WorkerStartOptions {
  /** The worker program (a JavaScript module path). */
  entry: string;
  /** Extra environment for the worker, on top of the manager's. */
  env: Record<string, string>;
}

export interface WorkerChannel {
  readonly pid: number;
  send(message: object): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (exit: WorkerExit) => void): void;
  kill(signal: NodeJS.Signals): void;
  /** The end of what the worker wrote to stderr, for crash reports. */
  stderrTail(): string;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}
