import { Option, type Command } from 'commander';
import { openBackend, type Backend } from '../adapters/open-backend.js';
import type { QueueType } from '../adapters/rabbitmq/topology.js';

export interface BackendCliOptions {
  data?: string;
  broker?: string;
  store?: string;
  redisPrefix?: string;
  queueType?: QueueType;
}

/** The options every command that touches the queues shares. */
export function withBackendOptions(command: Command): Command {
  return command
    .option('--data <path>', 'the embedded database: a directory or a .db file (env GAFFER_DATA; default ./.gaffer)')
    .option('--broker <url>', 'RabbitMQ, e.g. amqp://user:password@host:5672 (env GAFFER_BROKER; default: embedded)')
    .option('--store <url>', 'Redis, e.g. redis://host:6379 (env GAFFER_STORE; default: embedded)')
    .option('--redis-prefix <prefix>', 'prefix of every Redis key (env GAFFER_REDIS_PREFIX; default gaffer:)')
    .addOption(new Option('--queue-type <type>', 'RabbitMQ queue type (env GAFFER_QUEUE_TYPE; default quorum)').choices(['quorum', 'classic']));
}

export function backendFrom(options: BackendCliOptions, extra: { groupCommit?: boolean } = {}): Backend {
  return openBackend({
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.broker === undefined ? {} : { broker: options.broker }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.redisPrefix === undefined ? {} : { redisPrefix: options.redisPrefix }),
    ...(options.queueType === undefined ? {} : { queueType: options.queueType }),
    ...extra,
  });
}

/** Runs a command's work with the backend open, and closes it whatever happens. */
export async function withBackend<T>(options: BackendCliOptions, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = backendFrom(options);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}
