import { describeDeadReason, type DeadReason, type TaskRecord } from './task-record.js';

/**
 * Every error gaffer throws on purpose is a GafferError with a stable `code`,
 * so that callers (and the CLI) can branch on the code, not on the message.
 * Messages say what went wrong and what to do next.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'task_definition_invalid'
  | 'task_module_invalid'
  | 'unknown_task_type'
  | 'payload_invalid'
  | 'payload_too_large'
  | 'enqueue_options_invalid'
  | 'task_not_found'
  | 'dead_letter_not_found'
  | 'task_failed'
  | 'task_cancelled'
  | 'race_no_winner'
  | 'worker_start_failed'
  | 'storage_unavailable'
  | 'storage_full'
  | 'client_closed'
  | 'wait_timeout';

export class GafferError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class ConfigError extends GafferError {
  constructor(message: string) {
    super('config_invalid', message);
  }
}

export class TaskDefinitionError extends GafferError {
  constructor(message: string) {
    super('task_definition_invalid', message);
  }
}

export class TaskModuleError extends GafferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('task_module_invalid', message, options);
  }
}

export class UnknownTaskTypeError extends GafferError {
  constructor(readonly taskType: string, known: readonly string[]) {
    super(
      'unknown_task_type',
      `unknown task type "${taskType}"; the task module defines: ${known.length ? known.join(', ') : '(none)'}`,
    );
  }
}

export class PayloadInvalidError extends GafferError {
  constructor(message: string) {
    super('payload_invalid', message);
  }
}

export class PayloadTooLargeError extends GafferError {
  constructor(readonly bytes: number, readonly limit: number) {
    super('payload_too_large', `payload is ${bytes} bytes, over the limit of ${limit} bytes; send a reference (a path or URL) instead of the data`);
  }
}

export class EnqueueOptionsError extends GafferError {
  constructor(message: string) {
    super('enqueue_options_invalid', message);
  }
}

export class TaskNotFoundError extends GafferError {
  constructor(readonly taskId: string) {
    super('task_not_found', `no task with id "${taskId}" (it may never have existed, or its record passed the retention limit)`);
  }
}

export class DeadLetterNotFoundError extends GafferError {
  constructor(readonly taskId: string) {
    super('dead_letter_not_found', `no dead letter with id "${taskId}"; list them with "gaffer dead list"`);
  }
}

export class WorkerStartError extends GafferError {
  constructor(message: string) {
    super('worker_start_failed', message);
  }
}

export class StorageUnavailableError extends GafferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage_unavailable', message, options);
  }
}

export class StorageFullError extends GafferError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage_full', message, options);
  }
}

export class ClientClosedError extends GafferError {
  constructor() {
    super('client_closed', 'this client was closed; create a new one with createClient()');
  }
}

export class WaitTimeoutError extends GafferError {
  constructor(readonly taskId: string, readonly waitedMs: number) {
    super('wait_timeout', `task "${taskId}" did not finish within ${waitedMs} ms; it is still queued or running (check it with "gaffer status")`);
  }
}

export class TaskFailedError extends GafferError {
  constructor(
    readonly taskId: string,
    readonly reason: DeadReason,
  ) {
    super('task_failed', `task "${taskId}" ${describeDeadReason(reason)}; inspect it with "gaffer dead show ${taskId}"`);
  }
}

export class TaskCancelledError extends GafferError {
  constructor(readonly taskId: string) {
    super('task_cancelled', `task "${taskId}" was cancelled`);
  }
}

export class RaceLostError extends GafferError {
  constructor(
    readonly group: string,
    readonly outcomes: readonly TaskRecord[],
  ) {
    super('race_no_winner', `no task of race group "${group}" found a result (${outcomes.length} finished without one)`);
  }
}
