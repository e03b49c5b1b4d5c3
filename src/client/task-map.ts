import type { z } from 'zod';
import type { AnyTaskType, TaskType } from '../core/task-type.js';

/**
 * Type-level plumbing: from what a user passes as `tasks` (a module
 * namespace, an object or an array of task types) to a map from task name to
 * task type, so that enqueue infers the payload and the result.
 */
type TaskTypesIn<T> = T extends readonly unknown[] ? T[number] : T[keyof T];

export type TaskMapOf<T> = {
  [K in Extract<TaskTypesIn<T>, AnyTaskType> as K['name']]: K;
};

/** The map of a client created without task types: any name, payloads unchecked until a worker checks them. */
export type UntypedTaskMap = Record<string, TaskType<string, z.ZodType<unknown>, unknown>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PayloadOf<T> = T extends TaskType<any, infer Schema, any> ? z.input<Schema> : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResultOf<T> = T extends TaskType<any, any, infer Result> ? Result : never;
