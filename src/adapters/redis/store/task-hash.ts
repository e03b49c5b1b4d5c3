import type { TaskRecord } from '../../../core/task-record.js';
import type { TaskUpdate } from '../../../ports/store.js';

/**
 * A task record as a Redis hash: one field per record field that is set,
 * under the record's own names; numbers as decimal strings; result, error
 * and deadReason as JSON, so that falsy results (0, false, null, '') survive.
 */
type Field = keyof TaskRecord;

const NUMBERS = ['attempts', 'deaths', 'enqueuedAt', 'startedAt', 'finishedAt', 'workerPid'] as const satisfies readonly Field[];
const JSON_FIELDS = ['result', 'error', 'deadReason'] as const satisfies readonly Field[];
const NUMBER_SET: ReadonlySet<string> = new Set(NUMBERS);
const JSON_SET: ReadonlySet<string> = new Set(JSON_FIELDS);

/** Fields only a new record takes from an update; the rest overwrite what is there. */
const SET_ON_CREATE = ['queue', 'type', 'key', 'group', 'enqueuedAt'] as const satisfies readonly Field[];
const UPDATED = ['state', 'attempts', 'deaths', 'startedAt', 'finishedAt', 'result', 'error', 'deadReason', 'poolId', 'workerPid'] as const satisfies readonly Field[];
const ALL = ['id', ...SET_ON_CREATE, ...UPDATED] as const;
const ALL_SET: ReadonlySet<string> = new Set(ALL);

/**
 * Every field a record may have: what the store removes to forget a record.
 * The hash may hold other fields too, the RabbitMQ broker's ledger (see
 * keys.ts), which are not the store's to remove.
 */
export const RECORD_FIELDS: readonly string[] = ALL;
/** What an update writes if it creates the record. */
const CREATED_BY_UPDATE = ['id', ...SET_ON_CREATE, 'attempts', 'deaths'] as const satisfies readonly Field[];

function encodeValue(field: Field, value: unknown): string {
  if (JSON_SET.has(field)) return JSON.stringify(value);
  return String(value);
}

function pairs(source: Partial<TaskRecord>, fields: readonly Field[]): string[] {
  const out: string[] = [];
  for (const field of fields) {
    const value = source[field];
    if (value !== undefined) out.push(field, encodeValue(field, value));
  }
  return out;
}

/** The field/value pairs of a whole record. */
export function recordFields(record: TaskRecord): string[] {
  return pairs(record, ALL);
}

/** What an update writes, and what it writes too if it creates the record (like the SQLite store: queued now, no attempts). */
export function updateFields(update: TaskUpdate, now: number): { whenCreated: string[]; update: string[] } {
  const defaults: Partial<TaskRecord> = { attempts: 0, deaths: 0, enqueuedAt: now };
  const whenCreated: string[] = [];
  for (const field of CREATED_BY_UPDATE) {
    const value = update[field as keyof TaskUpdate] ?? defaults[field];
    if (value !== undefined) whenCreated.push(field, encodeValue(field, value));
  }
  return { whenCreated, update: pairs(update, UPDATED) };
}

/** The record of a hash, or undefined for a missing key (HGETALL gives {}) or a hash that holds only the ledger's fields. */
export function decodeRecord(hash: Record<string, string>): TaskRecord | undefined {
  if (hash.id === undefined) return undefined;
  const record: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(hash)) {
    if (!ALL_SET.has(field)) continue;
    record[field] = NUMBER_SET.has(field) ? Number(text) : JSON_SET.has(field) ? JSON.parse(text) : text;
  }
  return record as unknown as TaskRecord;
}
