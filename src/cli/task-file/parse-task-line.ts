import { DEFAULT_MAX_PAYLOAD_BYTES, encodePayload, parseEnqueueOptions, type EnqueueOptions } from '../../core/envelope.js';
import { GafferError, type ErrorCode } from '../../core/errors.js';

/** One task of a task file, checked as far as a producer can check it. */
export interface TaskLine {
  type: string;
  payload: unknown;
  options: EnqueueOptions;
  /** Its payload's size as JSON, to keep batches bounded in memory. */
  payloadBytes: number;
}

/** Why a line cannot be enqueued; the caller adds where the line is. */
export class TaskLineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const OPTION_FIELDS = ['queue', 'key', 'id', 'group', 'delayMs'] as const;
const FIELDS: ReadonlySet<string> = new Set(['type', 'payload', ...OPTION_FIELDS]);
const SHAPE = 'a line is a JSON object {"type": ..., "payload": ...} with optional "queue", "key", "id", "group" and "delayMs"';

/**
 * Parses one line of a task file (JSON Lines). Blank lines are skipped
 * (undefined). Unknown fields are refused rather than ignored: a misspelt
 * "payload" or "delayMs" would otherwise enqueue something else than meant.
 * `defaults` are the command line's --queue, --key, --group and --delay; a
 * line's own fields win.
 */
export function parseTaskLine(text: string, defaults: EnqueueOptions = {}): TaskLine | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TaskLineError('payload_invalid', `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskLineError('payload_invalid', `not a JSON object; ${SHAPE}`);
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !FIELDS.has(name));
  if (unknown !== undefined) throw new TaskLineError('payload_invalid', `unknown field ${JSON.stringify(unknown)}; ${SHAPE}`);
  if (typeof fields.type !== 'string' || fields.type === '') {
    throw new TaskLineError('payload_invalid', `${fields.type === undefined ? '"type" is missing' : '"type" must be a task type\'s name, a string'}; ${SHAPE}`);
  }
  if (!('payload' in fields)) throw new TaskLineError('payload_invalid', `"payload" is missing (write "payload": {} for none); ${SHAPE}`);

  const given: Record<string, unknown> = {};
  for (const name of OPTION_FIELDS) if (fields[name] !== undefined) given[name] = fields[name];
  let options: EnqueueOptions;
  let payloadBytes: number;
  try {
    options = parseEnqueueOptions({ ...defaults, ...given });
    payloadBytes = Buffer.byteLength(encodePayload(fields.payload, DEFAULT_MAX_PAYLOAD_BYTES));
  } catch (error) {
    if (error instanceof GafferError) throw new TaskLineError(error.code, error.message);
    throw error;
  }
  return { type: fields.type, payload: fields.payload, options, payloadBytes };
}
