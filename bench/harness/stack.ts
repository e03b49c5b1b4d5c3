import { randomBytes } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { Redis } from 'ioredis';
import { DELAY_BUCKETS_MS, deadQueueName, delayQueueName } from '../../src/adapters/rabbitmq/topology.js';
import { redactUrl } from '../../src/adapters/redact-url.js';

/** Where gaffer's figures run: the embedded default (SQLite in a temp dir), or RabbitMQ and Redis. */
export type Stack = EmbeddedStack | ProductionStack;

export interface EmbeddedStack {
  kind: 'embedded';
  description: string;
}

/** What one part of the run (one pool, one `gaffer up`) uses on RabbitMQ and Redis, and nothing else does. */
export interface Namespace {
  /** Redis key prefix, under the run's own. */
  redisPrefix: string;
  /** The gaffer queue; RabbitMQ also holds `<queue>.dead` and its delay queues. */
  queue: string;
}

/** Every name the benchmark makes starts with this: `rabbitmqctl list_queues` and `redis-cli --scan` find leftovers by it. */
export const BENCH_NAME_PREFIX = 'gaffer-bench';

const PROBE_TIMEOUT_MS = 3000;

/**
 * RabbitMQ and Redis for one benchmark run. The run gets a Redis prefix of
 * its own (`gaffer-bench-<pid>-<random>:`), and each pool a prefix under it
 * and a queue of its own, so that the run neither reads nor disturbs anyone
 * else's data on shared servers. Everything it names is written down here,
 * deleted when its part is done (`release`), and swept and checked once more
 * at the end (`cleanUp`).
 */
export class ProductionStack {
  readonly kind = 'production';
  readonly runPrefix: string;
  readonly description: string;
  /** gaffer queues: each with its dead-letter and delay queues. */
  private readonly gafferQueues = new Set<string>();
  /** The anchors' own queues (amqplib, Celery). */
  private readonly plainQueues = new Set<string>();
  /** Exchanges an anchor declared that did not exist before. */
  private readonly exchanges = new Set<string>();
  private count = 0;
  private readonly id: string;

  private constructor(
    readonly amqpUrl: string,
    readonly redisUrl: string,
  ) {
    this.id = `${process.pid}-${randomBytes(3).toString('hex')}`;
    this.runPrefix = `${BENCH_NAME_PREFIX}-${this.id}:`;
    this.description = `RabbitMQ ${redactUrl(amqpUrl)} (quorum queues), Redis ${redactUrl(redisUrl)} (prefix ${this.runPrefix})`;
  }

  /** Checks that both servers answer, so that a typo fails at once with a clear message rather than after minutes of retries. */
  static async open(amqpUrl: string, redisUrl: string): Promise<ProductionStack> {
    const problems = (
      await Promise.all([
        probeRabbit(amqpUrl).then(
          () => undefined,
          (error: Error) => `RabbitMQ at ${redactUrl(amqpUrl)} is unreachable (${error.message})`,
        ),
        probeRedis(redisUrl).then(
          () => undefined,
          (error: Error) => `Redis at ${redactUrl(redisUrl)} is unreachable (${error.message})`,
        ),
      ])
    ).filter((problem): problem is string => problem !== undefined);
    if (problems.length > 0) throw new Error(`${problems.join('; ')}: start it, or point --broker / --store elsewhere`);
    return new ProductionStack(amqpUrl, redisUrl);
  }

  /** Stops what is running on the servers (a pool), so that an interrupted run can clean up without a consumer declaring its queue again. */
  private readonly running = new Set<() => Promise<void>>();

  /** Registers a stop for an interruption; the returned function unregisters it once the part stopped by itself. */
  track(stop: () => Promise<void>): () => void {
    this.running.add(stop);
    return () => this.running.delete(stop);
  }

  /** For an interrupted run: stops what runs (briefly), then cleans up. */
  async interrupt(): Promise<string[]> {
    await Promise.allSettled([...this.running].map((stop) => stop()));
    return this.cleanUp();
  }

  /** A fresh Redis prefix and gaffer queue for one part of the run. */
  namespace(label: string): Namespace {
    const n = ++this.count;
    const queue = `${BENCH_NAME_PREFIX}-${label}-${this.id}-${n}`;
    this.gafferQueues.add(queue);
    return { redisPrefix: `${this.runPrefix}${label}-${n}:`, queue };
  }

  /** A queue name for an anchor, deleted at the end (or earlier, with deleteQueues). */
  anchorQueue(label: string): string {
    const queue = `${BENCH_NAME_PREFIX}-${label}-${this.id}-${++this.count}`;
    this.plainQueues.add(queue);
    return queue;
  }

  /** Deletes exchanges an anchor created (they did not exist before); the end checks that they are gone. */
  async deleteExchanges(names: readonly string[]): Promise<void> {
    for (const name of names) this.exchanges.add(name);
    await this.withChannel(async (model) => {
      const channel = await model.createChannel();
      for (const name of names) await channel.deleteExchange(name);
      await channel.close();
    });
  }

  /** Deletes a namespace's queues and Redis keys now that nothing uses them, so that the next part starts on clean servers. */
  async release(namespace: Namespace): Promise<void> {
    // The broker's ledger names every queue it declared: the pool's, and any other a task was sent to.
    const declared = await this.withRedis((redis) => redis.smembers(`${namespace.redisPrefix}queues`));
    for (const queue of declared) this.gafferQueues.add(queue);
    const queues = [...new Set([namespace.queue, ...declared])];
    await this.withChannel(async (model) => deleteQueues(model, queues.flatMap(gafferTopology)));
    await this.deleteKeys(namespace.redisPrefix);
  }

  async deleteQueues(names: readonly string[]): Promise<void> {
    await this.withChannel(async (model) => deleteQueues(model, names));
  }

  /**
   * Deletes everything the run made (again: a part that failed midway may
   * not have released its own), then checks that nothing is left. Returns
   * what is left, for the report; empty when the servers are as they were.
   */
  async cleanUp(): Promise<string[]> {
    const queues = [...[...this.gafferQueues].flatMap(gafferTopology), ...this.plainQueues];
    await this.withChannel(async (model) => {
      await deleteQueues(model, queues);
      const channel = await model.createChannel();
      for (const exchange of this.exchanges) await channel.deleteExchange(exchange);
      await channel.close();
    });
    await this.deleteKeys(this.runPrefix);

    const left: string[] = [];
    await this.withChannel(async (model) => {
      for (const queue of queues) if (await queueExists(model, queue)) left.push(`RabbitMQ queue ${queue}`);
      for (const exchange of this.exchanges) if (await exchangeExists(model, exchange)) left.push(`RabbitMQ exchange ${exchange}`);
    });
    const keys = await this.withRedis((redis) => scanKeys(redis, `${this.runPrefix}*`));
    if (keys.length > 0) left.push(`${keys.length} Redis key(s) under ${this.runPrefix}, e.g. ${keys[0]}`);
    return left;
  }

  /** A Redis client for the benchmark's own use (counting commands, the anchors), closed after `work`. */
  async withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 2, connectionName: 'gaffer-bench' });
    redis.on('error', () => {});
    try {
      return await work(redis);
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  }

  async withChannel<T>(work: (model: ChannelModel) => Promise<T>): Promise<T> {
    const model = await connect(this.amqpUrl);
    model.on('error', () => {});
    try {
      return await work(model);
    } finally {
      await model.close().catch(() => {});
    }
  }

  private async deleteKeys(prefix: string): Promise<void> {
    await this.withRedis(async (redis) => {
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
        if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
      }
    });
  }
}

/** A gaffer queue as src/adapters/rabbitmq/topology.ts declares it: delay queues first (they dead-letter into the queue), then the queue and its dead letters. */
export function gafferTopology(queue: string): string[] {
  return [...DELAY_BUCKETS_MS.map((bucket) => delayQueueName(queue, bucket)), queue, deadQueueName(queue)];
}

/** Deleting a queue that does not exist is fine in RabbitMQ: this is idempotent. */
async function deleteQueues(model: ChannelModel, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const channel = await model.createChannel();
  try {
    for (const name of names) await channel.deleteQueue(name);
  } finally {
    await channel.close().catch(() => {});
  }
}

/** A passive declare on a throwaway channel: RabbitMQ closes the channel (404) when the queue does not exist. */
export async function queueExists(model: ChannelModel, name: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  try {
    await channel.checkQueue(name);
    await channel.close().catch(() => {});
    return true;
  } catch {
    return false;
  }
}

export async function exchangeExists(model: ChannelModel, name: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  try {
    await channel.checkExchange(name);
    await channel.close().catch(() => {});
    return true;
  } catch {
    return false;
  }
}

export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) found.push(...(keys as string[]));
  return found;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function probeRabbit(url: string): Promise<void> {
  const model = await withTimeout(connect(url, { timeout: PROBE_TIMEOUT_MS }), PROBE_TIMEOUT_MS);
  model.on('error', () => {});
  await model.close();
}

async function probeRedis(url: string): Promise<void> {
  // One attempt, no offline queue: fails at once when nothing listens, instead of retrying forever.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: PROBE_TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), PROBE_TIMEOUT_MS);
  } catch (error) {
    throw cause ?? error;
  } finally {
    redis.disconnect();
  }
}
