import type { Backend } from '../../adapters/open-backend.js';
import { CallTimeoutError, safeErrorMessage, withTimeout } from './with-timeout.js';

export type ReadinessCode = 'broker_unreachable' | 'store_unreachable' | 'draining';

export interface PartCheck {
  ok: boolean;
  /** How long the call took, or how long it was waited for. */
  ms: number;
  code?: ReadinessCode;
  message?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { broker: PartCheck; store: PartCheck; draining: boolean };
  /** The first reason it is not ready, in the order draining, broker, store. */
  problem?: { code: ReadinessCode; message: string };
}

/**
 * Whether this process can take work: the broker and the store each answer a
 * cheap call within the timeout, and the process is not draining.
 */
export class ReadinessChecks {
  private readonly inFlight = new Map<'broker' | 'store', Promise<unknown>>();

  constructor(
    private readonly backend: Backend,
    /** The queue whose counts the broker is asked for: the one the pool serves (the pool asks the same every tick). */
    private readonly queue: string,
    private readonly timeoutMs: number,
  ) {}

  async check(draining: boolean): Promise<ReadinessReport> {
    const [broker, store] = await Promise.all([
      this.part('broker', 'broker_unreachable', () => this.backend.broker.stats([this.queue])),
      this.part('store', 'store_unreachable', () => this.backend.store.pausedQueues()),
    ]);
    const problem = draining
      ? { code: 'draining' as const, message: 'the process is draining: it finishes its running tasks and takes no new ones' }
      : [broker, store].find((part) => !part.ok);
    return {
      ready: problem === undefined,
      checks: { broker, store, draining },
      ...(problem ? { problem: { code: problem.code!, message: problem.message! } } : {}),
    };
  }

  private async part(name: 'broker' | 'store', code: ReadinessCode, call: () => Promise<unknown>): Promise<PartCheck> {
    const started = Date.now();
    // Probes that come while a call still hangs wait for that call; they do not pile up new ones.
    let pending = this.inFlight.get(name);
    if (!pending) {
      pending = Promise.resolve()
        .then(call)
        .finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, pending);
    }
    try {
      await withTimeout(pending, this.timeoutMs, `the ${name}`);
      return { ok: true, ms: Date.now() - started };
    } catch (error) {
      const message =
        error instanceof CallTimeoutError
          ? `${error.message}; check that it runs and that this process can reach it`
          : `the ${name} failed: ${safeErrorMessage(error)}`;
      return { ok: false, ms: Date.now() - started, code, message };
    }
  }
}
