/** gaffer's public API: define task types, enqueue and follow tasks, run a pool. */
export { z } from 'zod';
export { defineTask, type TaskType, type TaskContext, type TaskTypeSettings, type AnyTaskType } from './core/task-type.js';
export { createClient, GafferClient } from './client/client.js';
export type { ClientOptions } from './client/client-options.js';
export { TaskHandle, type WaitOptions } from './client/task-handle.js';
export type { RaceWinner } from './client/race.js';
export { PoolManager } from './runtime/pool/pool-manager.js';
export type { PoolManagerOptions } from './runtime/pool/pool-manager-options.js';
export type { PoolEvents, TaskFinishedEvent, WorkerExitedEvent } from './runtime/pool/pool-events.js';
export { openBackend, type Backend, type BackendOptions } from './adapters/open-backend.js';
export type { EnqueueOptions, TaskEnvelope } from './core/envelope.js';
export type { PoolSettingsInput } from './core/pool-settings.js';
export type { TaskRecord, TaskState, DeadReason } from './core/task-record.js';
export type { Broker } from './ports/broker.js';
export type { Store } from './ports/store.js';
export * from './core/errors.js';
