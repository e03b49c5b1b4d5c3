import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues } from '../core/validation-issues.js';
import type { Broker } from '../ports/broker.js';
import type { Settlement } from '../ports/settlement.js';
import type { Store } from '../ports/store.js';
import { allReady } from './all-ready.js';
import type { ConnectionChange } from './outage-reporter.js';
import { RabbitBroker } from './rabbitmq/rabbit-broker.js';
import { RedisSettlement } from './rabbitmq/redis-settlement.js';
import type { QueueType } from './rabbitmq/topology.js';
import { redactUrl } from './redact-url.js';
import { DEFAULT_REDIS_PREFIX } from './redis/redis-connection.js';
import { RedisStore } from './redis/store/redis-store.js';
import { openSqlite } from './sqlite/open-sqlite.js';

export interface BackendOptions {
  /** The embedded database: a directory or a .db file (GAFFER_DATA, ./.gaffer by default). */
  data?: string;
  /** amqp:// or amqps:// for RabbitMQ (GAFFER_BROKER); the embedded broker without one. */
  broker?: string;
  /** redis:// or rediss:// for Redis (GAFFER_STORE); the embedded store without one. */
  store?: string;
  /** Prefix of every Redis key (GAFFER_REDIS_PREFIX, "gaffer:" by default): deployments can share a Redis. */
  redisPrefix?: string;
  /** RabbitMQ queue type (GAFFER_QUEUE_TYPE): quorum by default, or classic. */
  queueType?: QueueType;
  /**
   * For the process that runs a pool manager: the writes of one turn of the
   * event loop, or of a few milliseconds of fast turns, share one commit
   * (embedded database only). Leave it off in producers (see GroupCommit).
   */
  groupCommit?: boolean;
  /**
   * For commands that read or administer what pools and producers wrote
   * (status, dead letters): an embedded database that does not exist is an
   * error, so a mistyped --data is not answered with an empty, new database.
   */
  existingData?: boolean;
}

export interface Backend {
  broker: Broker;
  store: Store;
  /** Record and ack in one step, where the broker and the store share a database (embedded, or RabbitMQ with its ledger's Redis); pass it to the PoolManager. */
  settlement?: Settlement;
  /** Where the data lives, without credentials, for logs and status. */
  description: string;
  /**
   * Resolves once RabbitMQ and Redis answer (at once on the embedded
   * backend); fails after `timeoutMs` with a StorageUnavailableError naming
   * each that does not. Until they answer, calls wait (and a pool's start
   * with them), so a process that must not wait for ever asks this first.
   */
  ready(timeoutMs: number): Promise<void>;
  /**
   * Calls back when the connection to RabbitMQ or Redis is lost after being
   * up, and when it is back (never on the embedded backend); returns the
   * unsubscribe. A close is not an outage: close() unsubscribes first.
   */
  watchServices(listener: (change: ServiceChange) => void): () => void;
  close(): Promise<void>;
}

export interface ServiceChange extends ConnectionChange {
  service: 'RabbitMQ' | 'Redis';
  /** Its URL, without credentials. */
  url: string;
}

/** What openBackend accepts, checked at run time too: from JavaScript, `date` for `data` would otherwise open ./.gaffer without a word. */
const backendOptionsSchema = z
  .object({
    data: z.string(),
    broker: z.string(),
    store: z.string(),
    redisPrefix: z.string(),
    queueType: z.enum(['quorum', 'classic']),
    groupCommit: z.boolean(),
    existingData: z.boolean(),
  })
  .partial()
  .strict();

/** Opens the broker and store a process talks to: embedded by default, RabbitMQ and Redis when given. */
export function openBackend(options: BackendOptions = {}, env: NodeJS.ProcessEnv = process.env): Backend {
  const checked = backendOptionsSchema.safeParse(options);
  if (!checked.success) throw new ConfigError(`invalid openBackend options: ${formatIssues(checked.error)}`);
  const brokerUrl = options.broker || env.GAFFER_BROKER || undefined;
  const storeUrl = options.store || env.GAFFER_STORE || undefined;
  const redisPrefix = options.redisPrefix || env.GAFFER_REDIS_PREFIX || DEFAULT_REDIS_PREFIX;
  const queueType = options.queueType ?? parseQueueType(env.GAFFER_QUEUE_TYPE);
  if (brokerUrl !== undefined) assertScheme(brokerUrl, ['amqp:', 'amqps:'], 'broker', '--broker amqp://user:password@host:5672');
  if (storeUrl !== undefined) assertScheme(storeUrl, ['redis:', 'rediss:'], 'store', '--store redis://host:6379');
  if (brokerUrl !== undefined && storeUrl === undefined) {
    throw new ConfigError(
      'the RabbitMQ broker keeps its ledger (task ids, cancellations, key leases) in Redis: give a Redis store too (--store redis://host:6379, the store option, or GAFFER_STORE)',
    );
  }

  const sqlite =
    brokerUrl === undefined || storeUrl === undefined
      ? openSqlite(options.data, { groupCommit: options.groupCommit ?? false, mustExist: options.existingData ?? false })
      : undefined;
  const rabbit = brokerUrl === undefined ? undefined : new RabbitBroker({ url: brokerUrl, redisUrl: storeUrl!, redisPrefix, queueType });
  const redis = storeUrl === undefined ? undefined : new RedisStore({ url: storeUrl, prefix: redisPrefix });
  const broker: Broker = rabbit ?? sqlite!.broker;
  const store: Store = redis ?? sqlite!.store;
  // Record and ack in one step where the broker and the store share a database: the embedded one, or the Redis of RabbitMQ's ledger.
  const settlement: Settlement | undefined = rabbit && redis ? new RedisSettlement(rabbit, redis) : !rabbit && !redis ? sqlite!.settlement : undefined;
  const description = [
    brokerUrl === undefined ? `broker sqlite ${sqlite!.file}` : `broker rabbitmq ${redactUrl(brokerUrl)} (${queueType} queues)`,
    storeUrl === undefined ? `store sqlite ${sqlite!.file}` : `store redis ${redactUrl(storeUrl)} (prefix ${redisPrefix})`,
  ].join(', ');
  const watching = new Set<() => void>();
  return {
    broker,
    store,
    ...(settlement ? { settlement } : {}),
    description,
    ready: async (timeoutMs) => {
      await allReady([rabbit?.ready(timeoutMs), redis?.ready(timeoutMs)].filter((check) => check !== undefined));
    },
    watchServices: (listener) => {
      const stops = [
        rabbit?.watchConnection((change) => listener({ ...change, service: 'RabbitMQ', url: redactUrl(brokerUrl!) })),
        redis?.watchConnection((change) => listener({ ...change, service: 'Redis', url: redactUrl(storeUrl!) })),
      ].filter((stop) => stop !== undefined);
      const stop = () => {
        stops.forEach((unsubscribe) => unsubscribe());
        watching.delete(stop);
      };
      watching.add(stop);
      return stop;
    },
    close: async () => {
      watching.forEach((stop) => stop());
      await broker.close();
      await store.close();
    },
  };
}

function assertScheme(url: string, schemes: readonly string[], what: string, example: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new ConfigError(`the ${what} URL ${JSON.stringify(redactUrl(url))} is not a URL; write e.g. ${example}`);
  }
  if (!schemes.includes(protocol)) {
    throw new ConfigError(`gaffer has no ${what} for ${protocol}// URLs; use ${schemes.map((s) => `${s}//`).join(' or ')}, e.g. ${example}`);
  }
}

function parseQueueType(value: string | undefined): QueueType {
  if (value === undefined || value === '' || value === 'quorum') return 'quorum';
  if (value === 'classic') return 'classic';
  throw new ConfigError(`GAFFER_QUEUE_TYPE must be quorum or classic, not ${JSON.stringify(value)}`);
}
