import type { Stack } from '../harness/stack.js';
import { withTempDir } from '../harness/temp-dir.js';
import { AmqpRedisTaskJournal } from './amqp-redis-task-journal.js';
import { SqliteTaskJournal } from './sqlite-task-journal.js';
import type { TaskJournal } from './task-journal.js';

/**
 * Runs `work` with the durable fork-pool anchor's journal on the stack gaffer
 * runs on: SQLite in a temp dir, or a queue and a Redis prefix of the run's
 * own (deleted afterwards) on RabbitMQ and Redis. `inFlight` is the most
 * tasks the children hold at once.
 */
export function withTaskJournal<T>(stack: Stack, inFlight: number, work: (journal: TaskJournal) => Promise<T>): Promise<T> {
  if (stack.kind === 'embedded') {
    return withTempDir('journal', async (dir) => {
      const journal = new SqliteTaskJournal(dir);
      try {
        return await work(journal);
      } finally {
        journal.close();
      }
    });
  }
  const namespace = stack.namespace('journal');
  return stack
    .withChannel((model) =>
      stack.withRedis(async (redis) => {
        const journal = await AmqpRedisTaskJournal.open(model, redis, namespace.queue, namespace.redisPrefix, inFlight);
        try {
          return await work(journal);
        } finally {
          await journal.close();
        }
      }),
    )
    .finally(() => stack.release(namespace));
}
