import { createMetricsRegistry } from '../metrics/metrics-registry.js';
import type { RouteModule } from '../route-context.js';

/**
 * GET /metrics in the Prometheus text format: counters of the pool this
 * server runs beside, gauges of the whole cluster, and the process's own.
 */
export const metricsRoutes: RouteModule = (app, context) => {
  const metrics = createMetricsRegistry(context);
  app.addHook('onClose', async () => metrics.close());
  app.get(
    '/metrics',
    { schema: { description: 'Prometheus metrics (text exposition format 0.0.4)', response: { 200: { type: 'string' } } } },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    },
  );
};
