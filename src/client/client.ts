import { randomUUID } from 'node:crypto';
import { ClientClosedError, PayloadInvalidError, UnknownTaskTypeError } from '../core/errors.js';
import {
  assertQueueName,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_QUEUE,
  encodePayload,
  parseEnqueueOptions,
  validatePayload,
  type EnqueueOptions,
  type TaskEnvelope,
} from '../core/envelope.js';
import { queuedRecordFor, type TaskRecord } from '../core/task-record.js';
import { newTaskId } from '../core/ids.js';
import { collectTaskTypes, type AnyTaskType } from '../core/task-type.js';
import { openBackend } from '../adapters/open-backend.js';
import type { Broker, CancelResult } from '../ports/broker.js';
import type { Store } from '../ports/store.js';
import { cancelTasks } from '../runtime/cancellation.js';
import { awaitRace, type RaceWinner } from './race.js';
import { TaskHandle } from './task-handle.js';
import { assertClientOptions, type ClientOptions } from './client-options.js';
import type { PayloadOf, ResultOf, TaskMapOf, UntypedTaskMap } from './task-map.js';

export interface RaceEntry<Map, Name extends keyof Map & string = keyof Map & string> {
  type: Name;
  payload: PayloadOf<Map[Name]>;
  options?: Omit<EnqueueOptions, 'group'>;
}

export interface BulkEntry<Map, Name extends keyof Map & string = keyof Map & string> {
  type: Name;
  payload: PayloadOf<Map[Name]>;
  options?: EnqueueOptions;
}

/** How long the client's calls wait for RabbitMQ and Redis to answer, unless told otherwise. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Produces tasks and follows them: enqueue, wait for results, cancel, race. */
export class GafferClient<Map extends Record<string, AnyTaskType> = UntypedTaskMap> {
  readonly broker: Broker;
  readonly store: Store;
  private readonly types: ReadonlyMap<string, AnyTaskType> | undefined;
  private readonly defaultQueue: string;
  private readonly maxPayloadBytes: number;
  private readonly ownsBackend: (() => Promise<void>) | undefined;
  private readonly servicesReady: ((timeoutMs: number) => Promise<void>) | undefined;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(options: ClientOptions<unknown> = {}) {
    assertClientOptions(options);
    if (options.backend) {
      this.broker = options.backend.broker;
      this.store = options.backend.store;
      this.servicesReady = options.backend.ready?.bind(options.backend);
    } else {
      const backend = openBackend({
        ...(options.data === undefined ? {} : { data: options.data }),
        ...(options.broker === undefined ? {} : { broker: options.broker }),
        ...(options.store === undefined ? {} : { store: options.store }),
        ...(options.redisPrefix === undefined ? {} : { redisPrefix: options.redisPrefix }),
      });
      this.broker = backend.broker;
      this.store = backend.store;
      this.ownsBackend = backend.close;
      this.servicesReady = backend.ready;
    }
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.types = options.tasks ? collectTaskTypes(options.tasks as Record<string, unknown>, 'the tasks given to createClient') : undefined;
    this.defaultQueue = assertQueueName(options.queue ?? DEFAULT_QUEUE);
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  /**
   * Enqueues one task. With an `id` that exists already, nothing is enqueued
   * and the handle follows the existing task (`handle.created` is false). On
   * RabbitMQ, an id whose first enqueue was never confirmed is published again.
   */
  async enqueue<Name extends keyof Map & string>(
    type: Name,
    payload: PayloadOf<Map[Name]>,
    options?: EnqueueOptions,
  ): Promise<TaskHandle<ResultOf<Map[Name]>>> {
    const [handle] = await this.enqueueMany<Name>([{ type, payload, ...(options ? { options } : {}) }]);
    return handle!;
  }

  /** Enqueues many tasks in one write. */
  async enqueueMany<Name extends keyof Map & string>(
    entries: ReadonlyArray<BulkEntry<Map, Name>>,
    extra: { race?: boolean } = {},
  ): Promise<Array<TaskHandle<ResultOf<Map[Name]>>>> {
    this.assertOpen();
    const now = Date.now();
    const envelopes = entries.map((entry) => this.envelope(entry.type, entry.payload, entry.options, now, extra.race === true));
    await this.ready();
    const results = await this.broker.enqueue(envelopes);
    // A resent task was never recorded: its first enqueue failed before the record, or is still under way (and
    // recordEnqueued keeps whichever record comes first).
    const queued = envelopes.filter((_, index) => results[index]!.created || results[index]!.resent);
    if (queued.length > 0) await this.store.recordEnqueued(queued.map(queuedRecordFor));
    return results.map((result) => new TaskHandle<ResultOf<Map[Name]>>(result.id, result.created, this.store, (id) => this.cancel(id)));
  }

  /** A handle for a task enqueued earlier, by this client or another. */
  task<Result = unknown>(id: string): TaskHandle<Result> {
    return new TaskHandle<Result>(id, false, this.store, (taskId) => this.cancel(taskId));
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const [record] = await this.store.getTasks([id]);
    return record;
  }

  /** A queued task never runs; a running one sees its signal abort (and its worker is killed if it does not stop). */
  async cancel(id: string): Promise<CancelResult> {
    this.assertOpen();
    await this.ready();
    const [result] = await cancelTasks(this.broker, this.store, { ids: [id] }, Date.now());
    return result!;
  }

  async cancelGroup(group: string): Promise<CancelResult[]> {
    this.assertOpen();
    await this.ready();
    return cancelTasks(this.broker, this.store, { group }, Date.now());
  }

  /**
   * Enqueues the tasks as one race group and resolves with the first that
   * succeeds with a result other than null; the rest are cancelled, running
   * ones included. Rejects with RaceLostError if none finds one.
   */
  async race<Name extends keyof Map & string>(
    entries: ReadonlyArray<RaceEntry<Map, Name>>,
    options: { group?: string } = {},
  ): Promise<RaceWinner<ResultOf<Map[Name]>> & { group: string }> {
    const group = options.group ?? `race-${randomUUID()}`;
    const handles = await this.enqueueMany<Name>(
      entries.map((entry) => ({ type: entry.type, payload: entry.payload, options: { ...entry.options, group } })),
      { race: true },
    );
    const winner = await awaitRace<ResultOf<Map[Name]>>(
      this.store,
      group,
      handles.map((handle) => handle.id),
      () => this.cancelGroup(group),
    );
    return { ...winner, group };
  }

  /**
   * Resolves once RabbitMQ and Redis answer (at once on the embedded
   * backend, or when they are connected); fails after `timeoutMs` with a
   * StorageUnavailableError naming each server that does not. Enqueue, race
   * and cancel ask it first.
   */
  async ready(timeoutMs = this.connectTimeoutMs): Promise<void> {
    await this.servicesReady?.(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ownsBackend?.();
  }

  private envelope(type: string, payload: unknown, rawOptions: EnqueueOptions | undefined, now: number, race: boolean): TaskEnvelope {
    const options = parseEnqueueOptions(rawOptions);
    if (this.types) {
      const taskType = this.types.get(type);
      if (!taskType) throw new UnknownTaskTypeError(type, [...this.types.keys()]);
      const valid = validatePayload(taskType, payload);
      if (!valid.ok) throw new PayloadInvalidError(valid.message);
    }
    const envelope: TaskEnvelope = {
      id: options.id ?? newTaskId(now),
      queue: options.queue ?? this.defaultQueue,
      type,
      payload: encodePayload(payload, this.maxPayloadBytes),
      enqueuedAt: now,
    };
    if (options.key !== undefined) envelope.key = options.key;
    if (options.group !== undefined) envelope.group = options.group;
    if (race) envelope.race = true;
    if (options.delayMs) envelope.runAt = now + options.delayMs;
    return envelope;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError();
  }
}

export function createClient<Tasks = UntypedTaskMap>(
  options: ClientOptions<Tasks> = {},
): GafferClient<[Tasks] extends [UntypedTaskMap] ? UntypedTaskMap : TaskMapOf<Tasks> & Record<string, AnyTaskType>> {
  return new GafferClient(options as ClientOptions<unknown>);
}
