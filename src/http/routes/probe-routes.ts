import { DEFAULT_QUEUE } from '../../core/envelope.js';
import { errorBody } from '../http-errors.js';
import { EventLoopMonitor } from '../metrics/event-loop-monitor.js';
import { ReadinessChecks } from '../metrics/readiness.js';
import type { RouteModule } from '../route-context.js';

export interface ProbeOptions {
  /** /healthz fails when the event loop runs timers this late (a liveness probe then restarts the process). */
  stallThresholdMs?: number;
  /** How long /readyz waits for the broker and for the store; below Kubernetes' default probe timeout of 1 s. */
  checkTimeoutMs?: number;
  /** How often the event loop is sampled. */
  sampleEveryMs?: number;
}

const errorSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;

const healthSchema = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['ok', 'stalled'] }, eventLoopDelayMs: { type: 'number' }, error: errorSchema },
  required: ['status', 'eventLoopDelayMs'],
} as const;

const partSchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, ms: { type: 'number' }, code: { type: 'string' }, message: { type: 'string' } },
  required: ['ok', 'ms'],
} as const;

const readySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'object',
      properties: { broker: partSchema, store: partSchema, draining: { type: 'boolean' } },
      required: ['broker', 'store', 'draining'],
    },
    error: errorSchema,
  },
  required: ['status', 'checks'],
} as const;

/**
 * GET /healthz (liveness: the process answers and its event loop is not
 * stalled) and GET /readyz (readiness: the broker and the store answer, and
 * the process is not draining). Bodies say which part failed and why, and
 * carry no URL, host or credential.
 */
export function createProbeRoutes(options: ProbeOptions = {}): RouteModule {
  const stallThresholdMs = options.stallThresholdMs ?? 2000;
  const checkTimeoutMs = options.checkTimeoutMs ?? 800;
  return (app, context) => {
    const monitor = new EventLoopMonitor(options.sampleEveryMs ?? 250);
    monitor.start();
    app.addHook('onClose', async () => monitor.stop());
    const readiness = new ReadinessChecks(context.backend, context.pool?.settings.queue ?? DEFAULT_QUEUE, checkTimeoutMs);

    app.get('/healthz', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, async (_request, reply) => {
      const eventLoopDelayMs = Math.round(monitor.delayMs());
      if (eventLoopDelayMs <= stallThresholdMs) return reply.header('cache-control', 'no-store').send({ status: 'ok', eventLoopDelayMs });
      const { error } = errorBody(
        'event_loop_stalled',
        `the event loop ran ${eventLoopDelayMs} ms late (the limit is ${stallThresholdMs} ms): something does synchronous work on the server's thread`,
      );
      return reply.status(503).header('cache-control', 'no-store').send({ status: 'stalled', eventLoopDelayMs, error });
    });

    app.get('/readyz', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
      const report = await readiness.check(context.draining());
      if (report.ready) return reply.header('cache-control', 'no-store').send({ status: 'ready', checks: report.checks });
      return reply
        .status(503)
        .header('cache-control', 'no-store')
        .send({ status: 'not_ready', checks: report.checks, error: report.problem });
    });
  };
}

export const probeRoutes: RouteModule = createProbeRoutes();
