import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { DELAY_BUCKETS_MS, deadQueueName, delayQueueName } from '../../src/adapters/rabbitmq/topology.js';
import { redactUrl } from '../../src/adapters/redact-url.js';

/**
 * The servers that some test files need (RabbitMQ, Redis), and one rule for
 * when they are missing: outside CI the file is skipped with a message that
 * says what was unreachable, where, and how to fix it; in CI (CI=true) they
 * are required, so the run fails loudly instead of passing with nothing tested.
 */
export interface Service {
  /** For people: "RabbitMQ", "Redis". */
  name: string;
  url: string;
  /** The environment variable that points the tests at another server. */
  envVar: string;
  /** How to start one on this machine. */
  start: string;
  /** Resolves once the service answers; rejects with why it does not. */
  probe(): Promise<void>;
}

/** How long a probe waits for an answer: a server that is up answers in milliseconds. */
const PROBE_TIMEOUT_MS = 2000;

export const DEFAULT_TEST_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** RabbitMQ at GAFFER_TEST_AMQP_URL, or on this machine. */
export function rabbitmqService(url = process.env.GAFFER_TEST_AMQP_URL ?? DEFAULT_TEST_AMQP_URL): Service {
  return {
    name: 'RabbitMQ',
    url,
    envVar: 'GAFFER_TEST_AMQP_URL',
    start: 'rabbitmq-server -detached',
    probe: () =>
      withTimeout(
        (async () => {
          const connection = await connect(url, { timeout: PROBE_TIMEOUT_MS });
          connection.on('error', () => {});
          await connection.close();
        })(),
      ),
  };
}

/** Redis at GAFFER_TEST_REDIS_URL, or on this machine. */
export function redisService(url = process.env.GAFFER_TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL): Service {
  return {
    name: 'Redis',
    url,
    envVar: 'GAFFER_TEST_REDIS_URL',
    start: 'redis-server --daemonize yes',
    probe: () =>
      withTimeout(
        (async () => {
          // No retries and no offline queue: one attempt, which fails at once when nothing listens.
          const probe = new Redis(url, {
            lazyConnect: true,
            connectTimeout: PROBE_TIMEOUT_MS,
            maxRetriesPerRequest: 0,
            enableOfflineQueue: false,
            retryStrategy: () => null,
          });
          // connect() rejects with "Connection is closed."; the cause (ECONNREFUSED, ...) comes as an error event.
          let cause: Error | undefined;
          probe.on('error', (error: Error) => (cause ??= error));
          try {
            await probe.connect();
            await probe.ping();
          } catch (error) {
            throw cause ?? error;
          } finally {
            probe.disconnect();
          }
        })(),
      ),
  };
}

/**
 * Probes `services` (all at once) and answers whether the file can run:
 * false when every one answered, else the reason to skip it, for the `skip`
 * option of describe or test. In CI it throws instead.
 */
export async function skipUnlessReachable(services: readonly Service[]): Promise<false | string> {
  const problems = await Promise.all(
    services.map(async (service) => {
      try {
        await service.probe();
        return undefined;
      } catch (error) {
        const why = (error as Error).message || String(error);
        return `${service.name} was not reachable at ${redactUrl(service.url)} (${why}); start it (${service.start}) or point ${service.envVar} at one`;
      }
    }),
  );
  const unreachable = problems.filter((problem): problem is string => problem !== undefined);
  if (unreachable.length === 0) return false;
  if (process.env.CI === 'true') {
    throw new Error(`these services are required in CI: ${unreachable.join('; ')}`);
  }
  return `skipped: ${unreachable.join('; ')}`;
}

/** RabbitMQ and Redis together, as the production stack uses them, and a way to clean up after a test. */
export interface ProductionServices {
  /** false when both answered; else why the file is skipped (outside CI: in CI, productionServices throws). */
  skip: false | string;
  amqpUrl: string;
  redisUrl: string;
  /**
   * Deletes what gaffer made under a Redis key prefix: the RabbitMQ queues it
   * declared (each queue named in `<prefix>queues`, with its dead-letter and
   * delay queues, and so are `queues`, in case Redis lost the set) and every
   * Redis key of the prefix. Call it once nothing
   * that could declare them again (a broker, a pool) is running.
   */
  cleanUp(prefix: string, queues?: Iterable<string>): Promise<void>;
}

/** Probes RabbitMQ and Redis (GAFFER_TEST_AMQP_URL, GAFFER_TEST_REDIS_URL); see skipUnlessReachable. */
export async function productionServices(): Promise<ProductionServices> {
  const rabbitmq = rabbitmqService();
  const redis = redisService();
  return {
    skip: await skipUnlessReachable([rabbitmq, redis]),
    amqpUrl: rabbitmq.url,
    redisUrl: redis.url,
    cleanUp: (prefix, queues = []) => cleanUpPrefix(rabbitmq.url, redis.url, prefix, queues),
  };
}

async function cleanUpPrefix(amqpUrl: string, redisUrl: string, prefix: string, known: Iterable<string>): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    const queues = new Set([...known, ...(await redis.smembers(`${prefix}queues`))]);
    if (queues.size > 0) {
      const connection = await connect(amqpUrl);
      connection.on('error', () => {});
      try {
        const channel = await connection.createChannel();
        // The delay queues first: they dead-letter into their queue, which goes next.
        for (const queue of queues) {
          for (const name of [...DELAY_BUCKETS_MS.map((bucket) => delayQueueName(queue, bucket)), queue, deadQueueName(queue)]) {
            await channel.deleteQueue(name);
          }
        }
      } finally {
        await connection.close();
      }
    }
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function withTimeout(probe: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([probe, timeout]).finally(() => clearTimeout(timer));
}
