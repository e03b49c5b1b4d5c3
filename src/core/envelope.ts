import { z } from 'zod';
import { formatIssues } from './validation-issues.js';
import { EnqueueOptionsError, PayloadInvalidError, PayloadTooLargeError } from './errors.js';
import type { BadInputCode } from './task-record.js';
import type { AnyTaskType } from './task-type.js';

/**
 * A task as it travels through a broker. The payload stays the raw text it was
 * enqueued as: producers in other languages may send anything, and it is the
 * worker that decodes and validates it (see decodePayload / validatePayload).
 */
export interface TaskEnvelope {
  id: string;
  queue: string;
  type: string;
  payload: string;
  key?: string;
  group?: string;
  /** Members of a race group: the first non-null result wins, the rest are cancelled. */
  race?: boolean;
  enqueuedAt: number;
  /** Earliest time to run; absent means now. */
  runAt?: number;
}

export const DEFAULT_QUEUE = 'default';
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * The largest result a handler may return, as JSON: results are kept in the
 * store and pass through the pool manager's memory, so one of hundreds of
 * megabytes would swell both (measured: a 300 MB result took the manager to
 * 1.6 GB). Large outputs belong in a file or object storage, with a
 * reference as the result.
 */
export const DEFAULT_MAX_RESULT_BYTES = 16 * 1024 * 1024;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TEXT_ID = /^[\x21-\x7e]{1,200}$/;

export const queueNameSchema = z
  .string()
  .regex(NAME, 'use a letter or digit, then letters, digits, ".", "_", ":" or "-" (at most 128)');

export const enqueueOptionsSchema = z
  .object({
    queue: queueNameSchema.optional(),
    id: z.string().regex(TEXT_ID, 'use 1 to 200 printable characters without spaces').optional(),
    key: z.string().min(1).max(200).optional(),
    group: z.string().regex(TEXT_ID, 'use 1 to 200 printable characters without spaces').optional(),
    delayMs: z.number().int().min(0).max(365 * 24 * 3600 * 1000).optional(),
  })
  .strict();

export type EnqueueOptions = z.infer<typeof enqueueOptionsSchema>;

export function parseEnqueueOptions(options: unknown): EnqueueOptions {
  const parsed = enqueueOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw new EnqueueOptionsError(`invalid enqueue options: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function assertQueueName(queue: string): string {
  const parsed = queueNameSchema.safeParse(queue);
  if (!parsed.success) throw new EnqueueOptionsError(`invalid queue name ${JSON.stringify(queue)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Serializes a producer's payload, refusing what JSON cannot carry and what is too big. */
export function encodePayload(value: unknown, maxBytes: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new PayloadInvalidError(`payload cannot be serialized as JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new PayloadInvalidError('payload cannot be serialized as JSON: pass an object, array, string, number, boolean or null');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new PayloadTooLargeError(bytes, maxBytes);
  return text;
}

export type BadInput = { ok: false; code: BadInputCode; message: string };
export type Checked<T> = { ok: true; value: T } | BadInput;

export function decodePayload(raw: string, maxBytes: number): Checked<unknown> {
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > maxBytes) {
    return { ok: false, code: 'oversize', message: `payload is ${bytes} bytes, over the limit of ${maxBytes} bytes` };
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, code: 'not_json', message: `payload is not JSON: ${(error as Error).message}` };
  }
}

export function validatePayload(taskType: AnyTaskType, value: unknown): Checked<unknown> {
  const parsed = taskType.schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, code: 'schema', message: `payload does not match the schema of "${taskType.name}": ${formatIssues(parsed.error)}` };
}

export function unknownType(type: string, known: Iterable<string>): BadInput {
  return { ok: false, code: 'unknown_type', message: `unknown task type "${type}"; the task module defines: ${[...known].join(', ') || '(none)'}` };
}
