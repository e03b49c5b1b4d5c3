import { pidsNamed, processTicks, TICKS_PER_SECOND } from './quiet.js';

/** Who to account for: this process (µs precision), a set of pids, or the processes of a command name. */
export type CpuPart = { self: true } | { pids: () => Iterable<number> } | { comm: string };

/**
 * Where the CPU went over a timed window: CPU milliseconds per part (this
 * process, the workers, RabbitMQ, Redis), read from /proc at the start and
 * the end. The parts' ticks are 10 ms grains, so a window of a second or
 * more is needed for them to mean much. Processes that exit inside the
 * window lose their share (workers here live through it).
 */
export class CpuBreakdown {
  private start: { at: number; values: Record<string, number> } | undefined;

  constructor(private readonly parts: Record<string, CpuPart>) {}

  /** Starts (or restarts) the window now. */
  mark(): void {
    this.start = { at: performance.now(), values: this.read() };
  }

  get started(): boolean {
    return this.start !== undefined;
  }

  /** CPU ms of each part since mark(), and the window's wall ms. */
  since(): { wallMs: number; cpuMs: Record<string, number> } {
    if (!this.start) throw new Error('CpuBreakdown.since() before mark()');
    const now = this.read();
    const cpuMs: Record<string, number> = {};
    for (const name of Object.keys(this.parts)) cpuMs[name] = Math.round((now[name]! - this.start.values[name]!) * 10) / 10;
    return { wallMs: performance.now() - this.start.at, cpuMs };
  }

  private read(): Record<string, number> {
    const values: Record<string, number> = {};
    for (const [name, part] of Object.entries(this.parts)) {
      if ('self' in part) {
        const usage = process.cpuUsage();
        values[name] = (usage.user + usage.system) / 1000;
      } else {
        const pids = 'pids' in part ? [...part.pids()] : pidsNamed(part.comm);
        values[name] = (pids.reduce((sum, pid) => sum + processTicks(pid, false), 0) * 1000) / TICKS_PER_SECOND;
      }
    }
    return values;
  }
}

/** CPU µs per task of each part: the "where does the time go" of a throughput figure. */
export function perTaskMicros(cpuMs: Record<string, number>, tasks: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of Object.entries(cpuMs)) out[name] = Math.round((ms * 1000) / tasks);
  return out;
}
