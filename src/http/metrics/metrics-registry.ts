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
 * One registry per server, never prom-client's global one: a process (or a
 * test) may run several servers, and each must count only its own pool.
 */
export function createMetricsRegistry(context: RouteContext, sampling?: ClusterSamplerOptions): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registerClusterGauges(registry, new ClusterSampler(context.backend, context.logger, sampling));
  const detach = context.pool ? collectPoolEvents(registry, context.pool) : () => {};
  return { registry, close: detach };
}
