import type { JsonValue } from '../../core/json.js';

/**
 * Sends a task's progress at most every `intervalMs`, keeping only the latest
 * value in between, so a handler may report as often as it likes.
 */
export class ProgressSender {
  private pending: JsonValue | undefined;
  private hasPending = false;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (value: JsonValue) => void,
    private readonly intervalMs = 50,
  ) {}

  report(value: JsonValue): void {
    const now = Date.now();
    if (now - this.lastSentAt >= this.intervalMs) {
      this.lastSentAt = now;
      this.send(value);
      return;
    }
    this.pending = value;
    this.hasPending = true;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs - (now - this.lastSentAt));
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.hasPending) return;
    this.hasPending = false;
    this.lastSentAt = Date.now();
    this.send(this.pending ?? null);
  }
}
