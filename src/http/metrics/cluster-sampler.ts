import type { Backend } from '../../adapters/open-backend.js';
import type { Logger } from '../../ports/logger.js';
import { readCluster, type ClusterView } from '../../views/cluster-view.js';
import { safeErrorMessage, withTimeout } from './with-timeout.js';

export interface ClusterSamplerOptions {
  /** A scrape must answer even when the backend hangs; its gauges are then left out. */
  timeoutMs: number;
  /** Reads younger than this serve again (scrapers that arrive together). */
  maxAgeMs: number;
}

/**
 * The cluster view for the gauges of a scrape. Every gauge collects at the
 * same time; they share one read of the broker and the store, not one each.
 */
export class ClusterSampler {
  private inFlight: Promise<ClusterView | undefined> | undefined;
  private last: { at: number; view: ClusterView | undefined } | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly logger: Logger,
    private readonly options: ClusterSamplerOptions = { timeoutMs: 5000, maxAgeMs: 250 },
  ) {}

  /** The view, or undefined when the broker or the store did not answer. */
  sample(): Promise<ClusterView | undefined> {
    if (this.last && Date.now() - this.last.at < this.options.maxAgeMs) return Promise.resolve(this.last.view);
    this.inFlight ??= this.read().then((view) => {
      this.last = { at: Date.now(), view };
      this.inFlight = undefined;
      return view;
    });
    return this.inFlight;
  }

  private async read(): Promise<ClusterView | undefined> {
    try {
      return await withTimeout(readCluster(this.backend, { decisions: 0 }), this.options.timeoutMs, 'the broker and the store');
    } catch (error) {
      this.logger.warn({ error: safeErrorMessage(error) }, 'metrics: could not read the cluster view; its gauges are left out of this scrape');
      return undefined;
    }
  }
}
