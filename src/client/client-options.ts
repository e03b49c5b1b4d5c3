import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues } from '../core/validation-issues.js';
import type { Broker } from '../ports/broker.js';
import type { Store } from '../ports/store.js';

export interface ClientOptions<Tasks> {
  /** Your task types (a module namespace, an object or an array): enqueue is then typed and checked before sending. */
  tasks?: Tasks;
  /** The embedded database (a directory or a .db file); GAFFER_DATA or ./.gaffer by default. */
  data?: string;
  /** RabbitMQ (amqp://...), with `store` set to Redis; GAFFER_BROKER by default. */
  broker?: string;
  /** Redis (redis://...); GAFFER_STORE by default. */
  store?: string;
  /** Prefix of gaffer's Redis keys; GAFFER_REDIS_PREFIX or "gaffer:" by default. */
  redisPrefix?: string;
  /** A broker and store opened elsewhere (shared with a pool in the same process, say); with `ready`, as openBackend's, the client checks the servers too. */
  backend?: { broker: Broker; store: Store; ready?(timeoutMs: number): Promise<void> };
  /**
   * How long enqueue, race and cancel wait for RabbitMQ and Redis to answer
   * before they fail with a StorageUnavailableError naming the server (10 s
   * by default). Without it, a call waits for the servers to come back.
   */
  connectTimeoutMs?: number;
  /** Queue for tasks enqueued without one. */
  queue?: string;
  maxPayloadBytes?: number;
}

/**
 * What createClient accepts, checked at run time too: from JavaScript, a
 * misspelt option (`task` for `tasks`) would otherwise leave the client
 * untyped and unchecked without a word.
 */
const clientOptionsSchema = z
  .object({
    tasks: z.unknown(),
    data: z.string(),
    broker: z.string(),
    store: z.string(),
    redisPrefix: z.string(),
    backend: z.object({ broker: z.unknown(), store: z.unknown() }).loose(),
    connectTimeoutMs: z.number().int().positive(),
    queue: z.string(),
    maxPayloadBytes: z.number().int().positive(),
  })
  .partial()
  .strict();

export function assertClientOptions(options: unknown): void {
  const parsed = clientOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`invalid createClient options: ${formatIssues(parsed.error)}`);
}
