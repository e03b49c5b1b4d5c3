import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RouteContext } from '../route-context.js';
import { ClusterSampler, type ClusterSamplerOptions } from './cluster-sampler.js';
import { registerClusterGauges } from './cluster-gauges.js';
import { collectPoolEvents } from './pool-collectors.js';

export interface MetricsRegistry {
  registry: Registry;
  /** Stops listening to the pool. */
  close(): void;
}

/**
 * How often prom-client samples the event loop's delay for its lag
 * percentiles. Its default, 10 ms, is a timer that woke an idle `gaffer up`
 * 100 times a second (102 wake-ups and 15 ms of CPU a second here; 17 and 6 ms
 * with 100 ms, the pool's quiet tick included), and a busy pool of 20 ms
 * tasks, which its workers' messages wake some 150 times a second, 100 times
 * more. At 100 ms, a scrape every 15 s still rests on 150 samples.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * One registry per server, never prom-client's global one: a process (or a
 * test) may run several servers, and each must count only its own pool.
 */
export function createMetricsRegistry(context: RouteContext, sampling?: ClusterSamplerOptions): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  registerClusterGauges(registry, new ClusterSampler(context.backend, context.logger, sampling));
  const detach = context.pool ? collectPoolEvents(registry, context.pool) : () => {};
  return { registry, close: detach };
}
