import { Option, type Command } from 'commander';
import { openBackend, type Backend, type BackendOptions } from '../adapters/open-backend.js';
import type { QueueType } from '../adapters/rabbitmq/topology.js';
import { parseDuration } from './format/durations.js';

export interface BackendCliOptions {
  data?: string;
  broker?: string;
  store?: string;
  redisPrefix?: string;
  queueType?: QueueType;
  /** How long to wait for RabbitMQ and Redis to answer (ms). */
  connectTimeout?: number;
}

/** How long a command that does one thing waits for RabbitMQ and Redis, unless --connect-timeout says otherwise. */
export const COMMAND_CONNECT_TIMEOUT_MS = 10_000;

/** How long `gaffer up`, `demo` and `dashboard` wait: servers started together with them (a compose file, a pod) take a while. */
export const POOL_CONNECT_TIMEOUT_MS = 30_000;

/** When a wait for the servers is long enough to say so. */
const SLOW_CONNECT_MS = 2000;

/** The options every command that touches the queues shares. */
export function withBackendOptions(command: Command): Command {
  return command
    .option('--data <path>', 'the embedded database: a directory or a .db file (env GAFFER_DATA; default ./.gaffer)')
    .option('--broker <url>', 'RabbitMQ, e.g. amqp://user:password@host:5672 (env GAFFER_BROKER; default: embedded)')
    .option('--store <url>', 'Redis, e.g. redis://host:6379 (env GAFFER_STORE; default: embedded)')
    .option('--redis-prefix <prefix>', 'prefix of every Redis key (env GAFFER_REDIS_PREFIX; default gaffer:)')
    .addOption(new Option('--queue-type <type>', 'RabbitMQ queue type (env GAFFER_QUEUE_TYPE; default quorum)').choices(['quorum', 'classic']))
    .option(
      '--connect-timeout <duration>',
      `how long to wait for RabbitMQ and Redis to answer before giving up (default ${COMMAND_CONNECT_TIMEOUT_MS / 1000}s; up, demo and dashboard ${POOL_CONNECT_TIMEOUT_MS / 1000}s)`,
      parseDuration,
    );
}

/**
 * Opens the backend and waits until its servers answer, for --connect-timeout
 * or `defaultTimeoutMs`; if they do not, closes it and fails with an error
 * that names each server that did not answer, and why. `onSlow` hears of a
 * wait that goes on for a couple of seconds.
 */
export async function openReadyBackend(
  options: BackendCliOptions,
  defaultTimeoutMs: number,
  extra: Pick<BackendOptions, 'groupCommit' | 'existingData'> & { onSlow?: (backend: Backend, timeoutMs: number) => void } = {},
): Promise<Backend> {
  const { onSlow, ...backendExtra } = extra;
  const backend = openBackend({
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.broker === undefined ? {} : { broker: options.broker }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.redisPrefix === undefined ? {} : { redisPrefix: options.redisPrefix }),
    ...(options.queueType === undefined ? {} : { queueType: options.queueType }),
    ...backendExtra,
  });
  const timeoutMs = options.connectTimeout ?? defaultTimeoutMs;
  const slow = onSlow ? setTimeout(() => onSlow(backend, timeoutMs), SLOW_CONNECT_MS) : undefined;
  try {
    await backend.ready(timeoutMs);
    return backend;
  } catch (error) {
    await backend.close();
    throw error;
  } finally {
    clearTimeout(slow);
  }
}

/**
 * Runs the work of a command that reads or administers what pools and
 * producers wrote (status, dead letters) with the backend open and
 * answering, and closes it whatever happens. An embedded database must exist.
 */
export async function withBackend<T>(options: BackendCliOptions, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openReadyBackend(options, COMMAND_CONNECT_TIMEOUT_MS, { existingData: true });
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}
