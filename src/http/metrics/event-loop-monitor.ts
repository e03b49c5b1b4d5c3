import { performance } from 'node:perf_hooks';

/**
 * Measures how late the event loop runs a timer. A pool manager's loop must
 * never block (it holds the broker's leases and heartbeats); a late timer is
 * the direct sign that something on the loop does synchronous work.
 */
export class EventLoopMonitor {
  private timer: NodeJS.Timeout | undefined;
  private lastTick = performance.now();
  private lastLagMs = 0;

  constructor(private readonly intervalMs = 250) {}

  start(): void {
    if (this.timer) return;
    this.lastTick = performance.now();
    this.lastLagMs = 0;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lastLagMs = Math.max(0, now - this.lastTick - this.intervalMs);
      this.lastTick = now;
    }, this.intervalMs);
    // Probing must never be what keeps the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The loop's current delay in milliseconds: how late the last tick ran, or
   * how late the next one already is (a request can be served right after a
   * stall, before the overdue timer had its turn).
   */
  delayMs(): number {
    const overdue = performance.now() - this.lastTick - this.intervalMs;
    return Math.max(0, this.lastLagMs, overdue);
  }
}
