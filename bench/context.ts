import type { Stack } from './harness/stack.js';

/** What every scenario gets from the command line. */
export interface BenchContext {
  cores: number;
  /** Shorter runs: fewer tasks and repetitions, same method. */
  quick: boolean;
  /** Where gaffer runs: embedded (the default) or RabbitMQ and Redis (--broker, --store). */
  stack: Stack;
  /** Progress lines, on stderr so that stdout stays the table (or the JSON). */
  log(message: string): void;
  /**
   * Waits for the machine to be quiet again (a while at most), between the
   * timed parts of one scenario: the broker may still be busy with what the
   * previous part left (deleting a queue of 25,000 messages, say).
   */
  quiet(what: string): Promise<void>;
}
