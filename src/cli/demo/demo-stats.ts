import type { PoolManager } from '../../runtime/pool/pool-manager.js';
import type { DecisionRecord } from '../../ports/store.js';

/** What the demo counts from the pool's events: tasks, hashes, CPU, decisions, and how fast losers stop. */
export class DemoStats {
  readonly decisions: DecisionRecord[] = [];
  finishedRanges = 0;
  foundNonces = 0;
  stoppedWhileRunning = 0;
  /** Cancelled before a worker began them: in the queue, or waiting in a worker's lookahead slot. */
  cancelledBeforeStart = 0;
  rangesEnqueued = 0;
  cpuMicros = 0;
  hashes = 0;
  workersStarted = 0;
  /** Per race group: when its winner was recorded. */
  private readonly wonAt = new Map<string, number>();
  /** Milliseconds from a win to each loser that stopped running. */
  readonly stopDelays: number[] = [];
  private readonly perTask = new Map<string, number>();
  private readonly samples: Array<{ at: number; hashes: number }> = [];

  constructor(pool: PoolManager) {
    pool.on('decision', (decision) => this.decisions.push(decision));
    pool.on('worker-started', () => this.workersStarted++);
    pool.on('progress', ({ id, value }) => {
      const done = typeof value === 'object' && value !== null && 'hashes' in value ? Number(value.hashes) : 0;
      this.hashes += done - (this.perTask.get(id) ?? 0);
      this.perTask.set(id, done);
    });
    pool.on('task-finished', (event) => {
      this.perTask.delete(event.id);
      this.cpuMicros += event.cpuMicros ?? 0;
      const now = Date.now();
      if (event.state === 'succeeded') {
        this.finishedRanges++;
        if (event.result !== null && event.result !== undefined) {
          this.foundNonces++;
          if (event.group) this.wonAt.set(event.group, now);
        }
      } else if (event.state === 'cancelled' && (event.cpuMicros ?? 1) > 0) {
        this.stoppedWhileRunning++;
        const won = event.group === undefined ? undefined : this.wonAt.get(event.group);
        if (won !== undefined) this.stopDelays.push(now - won);
      }
    });
  }

  /** Every range ran, was stopped while running, or was cancelled before it began: the last is the rest. */
  settleCounts(): void {
    this.cancelledBeforeStart = this.rangesEnqueued - this.finishedRanges - this.stoppedWhileRunning;
  }

  /** Hashes per second over about the last second. */
  hashRate(now: number): number {
    this.samples.push({ at: now, hashes: this.hashes });
    while (this.samples.length > 2 && now - this.samples[1]!.at >= 1000) this.samples.shift();
    const oldest = this.samples[0]!;
    const seconds = (now - oldest.at) / 1000;
    return seconds > 0 ? (this.hashes - oldest.hashes) / seconds : 0;
  }
}
