import type { Logger } from '../../ports/logger.js';

/** How often, at most, a failure that goes on is logged again. */
export const REPORT_EVERY_MS = 10_000;

/**
 * Logs a failure that repeats (at every tick while the disk is full or a
 * server is down) when it starts, then at most every REPORT_EVERY_MS with
 * how many times it happened in between, and once when it stops: hundreds
 * of copies of one line would hide the lines that matter.
 */
export class RepeatedFailureLog {
  private failingSince: number | undefined;
  private lastReportAt = Number.NEGATIVE_INFINITY;
  private unreported = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { failed: string; recovered: string },
    private readonly everyMs = REPORT_EVERY_MS,
  ) {}

  failed(error: unknown, fields: object = {}): void {
    const now = performance.now();
    this.failingSince ??= now;
    if (now - this.lastReportAt < this.everyMs) {
      this.unreported++;
      return;
    }
    this.lastReportAt = now;
    this.logger.error({ ...fields, err: error, ...(this.unreported > 0 ? { timesSinceLastReport: this.unreported } : {}) }, this.messages.failed);
    this.unreported = 0;
  }

  succeeded(): void {
    if (this.failingSince === undefined) return;
    this.logger.info({ failedForMs: Math.round(performance.now() - this.failingSince) }, this.messages.recovered);
    this.failingSince = undefined;
    this.lastReportAt = Number.NEGATIVE_INFINITY;
    this.unreported = 0;
  }
}
