import { z } from 'zod';
import { formatIssues } from './validation-issues.js';
import { TaskDefinitionError, TaskModuleError } from './errors.js';
import type { BackoffSettings } from './backoff.js';
import type { JsonValue } from './json.js';

/** What a handler can see and do while it runs. */
export interface TaskContext {
  readonly id: string;
  /** 1 on the first run, 2 on the first retry, and so on. */
  readonly attempt: number;
  readonly queue: string;
  readonly key?: string;
  readonly group?: string;
  /** Aborts when the task is cancelled: stop, and return or throw. */
  readonly signal: AbortSignal;
  /** Reports progress to the pool manager (shown live, not stored). */
  progress(value: JsonValue): void;
}

/** Per-type settings; anything left out takes the pool's default. */
export interface TaskTypeSettings {
  timeLimitMs?: number;
  maxAttempts?: number;
  maxCrashes?: number;
  backoff?: Partial<BackoffSettings>;
}

const TASK_TYPE = Symbol.for('gaffer.task-type');

export interface TaskType<Name extends string = string, Schema extends z.ZodType = z.ZodType, Result = unknown> {
  readonly [TASK_TYPE]: true;
  readonly name: Name;
  readonly schema: Schema;
  readonly settings: TaskTypeSettings;
  handler(payload: z.output<Schema>, ctx: TaskContext): Result | Promise<Result>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTaskType = TaskType<string, any, any>;

export interface TaskDefinition<Name extends string, Schema extends z.ZodType, Result> extends TaskTypeSettings {
  name: Name;
  schema: Schema;
  handler: (payload: z.output<Schema>, ctx: TaskContext) => Result | Promise<Result>;
}

export const TASK_TYPE_NAME = /^[A-Za-z][A-Za-z0-9._:-]{0,127}$/;

const positiveInt = z.number().int().positive();
const settingsSchema = z
  .object({
    timeLimitMs: positiveInt.optional(),
    maxAttempts: positiveInt.optional(),
    maxCrashes: positiveInt.optional(),
    backoff: z.object({ baseMs: positiveInt.optional(), maxMs: positiveInt.optional() }).strict().optional(),
  })
  .strict();

export function defineTask<const Name extends string, Schema extends z.ZodType, Result>(
  definition: TaskDefinition<Name, Schema, Result>,
): TaskType<Name, Schema, Awaited<Result>> {
  const { name, schema, handler, ...settings } = definition;
  if (typeof name !== 'string' || !TASK_TYPE_NAME.test(name)) {
    throw new TaskDefinitionError(
      `task name ${JSON.stringify(name)} is not valid: use a letter, then letters, digits, ".", "_", ":" or "-" (at most 128)`,
    );
  }
  // Duck-typed, so that a task module with its own copy of zod still works.
  if (typeof (schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    throw new TaskDefinitionError(`task "${name}" needs a zod schema for its payload, e.g. schema: z.object({ ... })`);
  }
  if (typeof handler !== 'function') {
    throw new TaskDefinitionError(`task "${name}" needs a handler function`);
  }
  const parsed = settingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw new TaskDefinitionError(`task "${name}" has invalid settings: ${formatIssues(parsed.error)}`);
  }
  return {
    [TASK_TYPE]: true,
    name,
    schema,
    settings: parsed.data,
    handler: handler as TaskType<Name, Schema, Awaited<Result>>['handler'],
  };
}

export function isTaskType(value: unknown): value is AnyTaskType {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK_TYPE] === true;
}

/**
 * Finds the task types a module exports: named exports, or a default export
 * that is a task type, an array of them, or an object of them.
 */
export function collectTaskTypes(moduleNamespace: Record<string, unknown>, source: string): Map<string, AnyTaskType> {
  const found = new Map<string, AnyTaskType>();
  const add = (value: unknown) => {
    if (!isTaskType(value)) return;
    const existing = found.get(value.name);
    if (existing && existing !== value) {
      throw new TaskModuleError(`${source} defines task type "${value.name}" twice; give each task type its own name`);
    }
    found.set(value.name, value);
  };
  for (const value of Object.values(moduleNamespace)) {
    if (isTaskType(value)) add(value);
    else if (Array.isArray(value)) value.forEach(add);
    else if (value && typeof value === 'object') Object.values(value).forEach(add);
  }
  if (found.size === 0) {
    throw new TaskModuleError(`${source} exports no task types; export the results of defineTask() from it`);
  }
  return found;
}
