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
  const created: Partial<TaskRecord> = { attempts: 0, deaths: 0, enqueuedAt: now, ...definedOnly(update) };
  return { whenCreated: pairs(created, ['id', ...SET_ON_CREATE, 'attempts', 'deaths']), update: pairs(update, UPDATED) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** The record of a hash, or undefined for a missing key (HGETALL gives {}). */
export function decodeRecord(hash: Record<string, string>): TaskRecord | undefined {
  if (hash.id === undefined) return undefined;
  const record: Record<string, unknown> = {};
  for (const [field, text] of Object.entries(hash)) {
    record[field] = NUMBER_SET.has(field) ? Number(text) : JSON_SET.has(field) ? JSON.parse(text) : text;
  }
  return record as unknown as TaskRecord;
}
