import { decodePayload, unknownType, validatePayload } from '../../core/envelope.js';
import type { JsonValue } from '../../core/json.js';
import type { TaskError } from '../../core/task-record.js';
import type { AnyTaskType, TaskContext } from '../../core/task-type.js';
import type { RunTask, WorkerOutcome } from '../ipc/messages.js';

/**
 * The task a worker runs, and its cancellation. The AbortSignal a handler
 * sees is made only when the handler asks for it: most never do, and one
 * costs microseconds a task.
 */
export class RunningTask {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  constructor(readonly id: string) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/**
 * Decodes, validates and runs one task in this worker process. Bad input ends
 * here, before any handler runs; a handler that stops because its signal
 * aborted ends as cancelled, whatever it returned or threw.
 */
export async function runTask(
  task: RunTask,
  registry: ReadonlyMap<string, AnyTaskType>,
  limits: { maxPayloadBytes: number; maxResultBytes: number },
  running: RunningTask,
  progress: (value: JsonValue) => void,
): Promise<WorkerOutcome> {
  const decoded = decodePayload(task.payload, limits.maxPayloadBytes);
  if (!decoded.ok) return { kind: 'bad_input', code: decoded.code, message: decoded.message };
  const taskType = registry.get(task.type);
  if (!taskType) {
    const bad = unknownType(task.type, registry.keys());
    return { kind: 'bad_input', code: bad.code, message: bad.message };
  }
  const valid = validatePayload(taskType, decoded.value);
  if (!valid.ok) return { kind: 'bad_input', code: valid.code, message: valid.message };

  const ctx: TaskContext = {
    id: task.id,
    attempt: task.attempt,
    queue: task.queue,
    ...(task.key === undefined ? {} : { key: task.key }),
    ...(task.group === undefined ? {} : { group: task.group }),
    get signal() {
      return running.signal;
    },
    progress,
  };
  try {
    const value: unknown = await taskType.handler(valid.value, ctx);
    if (running.aborted) return { kind: 'cancelled' };
    return toSucceeded(value, limits.maxResultBytes);
  } catch (error) {
    if (running.aborted) return { kind: 'cancelled' };
    return { kind: 'failed', error: toTaskError(error) };
  }
}

/**
 * The IPC channel serializes as JSON too, so stringifying once is the whole
 * check: that it can be stored, and that it is not too large to.
 */
function toSucceeded(value: unknown, maxResultBytes: number): WorkerOutcome {
  let json: string | undefined;
  try {
    // undefined for a function or a symbol, which JSON has no words for.
    json = JSON.stringify(value ?? null) as string | undefined;
  } catch (error) {
    return notSerializable((error as Error).message);
  }
  if (json === undefined) return notSerializable(`it is a ${typeof value}`);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a short result needs no exact count.
  const bytes = json.length * 3 <= maxResultBytes ? json.length : Buffer.byteLength(json);
  if (bytes > maxResultBytes) {
    return {
      kind: 'failed',
      error: {
        name: 'ResultTooLarge',
        message: `the handler's result is ${bytes} bytes as JSON, over the limit of ${maxResultBytes} bytes (maxResultBytes, gaffer up --max-result-mb); store large outputs elsewhere (a file, object storage) and return where they are`,
      },
    };
  }
  return { kind: 'succeeded', result: (value ?? null) as JsonValue };
}

function notSerializable(why: string): WorkerOutcome {
  return { kind: 'failed', error: { name: 'ResultNotSerializable', message: `the handler's result cannot be stored as JSON: ${why}` } };
}

export function toTaskError(error: unknown): TaskError {
  if (error instanceof Error) {
    const out: TaskError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: 'NonError', message: `the handler threw a non-Error value: ${safeString(error)}` };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
