import { restartDelayMs, type BackoffSettings } from '../../core/backoff.js';

/**
 * Paces worker starts after crashes: each unexpected death in a row pushes the
 * next start further out (capped), and a worker that stays up for
 * `stableUptimeMs` ends the streak. A crash loop thus costs little CPU.
 */
export class RestartGate {
  private streak = 0;
  private lastCrashAt = 0;
  private notBefore = 0;

  constructor(
    private readonly backoff: BackoffSettings,
    private readonly stableUptimeMs: number,
  ) {}

  get crashStreak(): number {
    return this.streak;
  }

  recordCrash(now: number): void {
    this.streak++;
    this.lastCrashAt = now;
    this.notBefore = now + restartDelayMs(this.streak, this.backoff);
  }

  /** Ends the streak once a worker that started after the last crash has been up long enough. */
  noteUptime(workerStartedAt: number, now: number): void {
    if (this.streak > 0 && workerStartedAt >= this.lastCrashAt && now - workerStartedAt >= this.stableUptimeMs) {
      this.streak = 0;
      this.notBefore = 0;
    }
  }

  /** Milliseconds until a worker may start (0: now). */
  waitMs(now: number): number {
    return Math.max(0, this.notBefore - now);
  }
}
