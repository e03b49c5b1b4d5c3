import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../ports/logger.js';
import { RepeatedFailureLog } from './repeated-failure-log.js';

/** Waits between attempts: a lock may be free again in a moment; a full disk or a server that is down waits for someone. */
export const RETRY_DELAYS_MS: readonly number[] = [100, 250, 500, 1000, 2000, 5000];

/**
 * Retries the writes that record what became of a task (its outcome, or its
 * return to the queue) until they land. The pool renews the lease of every
 * task it holds, so such a write given up while the pool lives would leave
 * its task leased, and run by no one, until the pool stops; and an outcome
 * is worth the wait, since a task run again is done twice. Failures are
 * logged as one (see RepeatedFailureLog), however many writes wait.
 * Closing (the pool stopped) ends the waiting: those tasks stay leased, and
 * the next pool runs them once their leases run out.
 */
export class WriteRetry {
  private readonly closing = new AbortController();
  private waiting = 0;
  private readonly log: RepeatedFailureLog;

  constructor(
    logger: Logger,
    private readonly delaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {
    this.log = new RepeatedFailureLog(logger, {
      failed: 'could not record what became of a task; retrying until the store and the broker take it (its task stays leased to this pool meanwhile)',
      recovered: 'recorded every task outcome that had to wait',
    });
  }

  /** How many writes are waiting to be retried. */
  get pending(): number {
    return this.waiting;
  }

  async untilWritten<T>(write: () => Promise<T>): Promise<T> {
    let failures = 0;
    for (;;) {
      try {
        const result = await write();
        if (failures > 0 && --this.waiting === 0) this.log.succeeded();
        return result;
      } catch (error) {
        if (failures === 0) this.waiting++;
        failures++;
        if (this.closing.signal.aborted) return this.giveUp(error);
        this.log.failed(error, { waiting: this.waiting });
        const delayMs = this.delaysMs[Math.min(failures, this.delaysMs.length) - 1]!;
        try {
          await sleep(delayMs, undefined, { signal: this.closing.signal });
        } catch {
          return this.giveUp(error);
        }
      }
    }
  }

  /** Stops retrying: every waiting write fails with its last error. */
  close(): void {
    this.closing.abort();
  }

  private giveUp(error: unknown): never {
    this.waiting--;
    throw error;
  }
}
