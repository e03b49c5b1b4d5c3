import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody } from '../http-errors.js';
import type { RouteModule } from '../route-context.js';
import { ClusterFeed } from './dashboard/cluster-feed.js';
import { openEventStream } from './dashboard/event-stream.js';
import { dashboardQuerySchema, type DashboardQuery } from './dashboard/query.js';
import { loadDashboardAssets, type Asset } from './dashboard/static-assets.js';

/** How far back the chart reaches, and the decisions a new page is sent. */
const HISTORY_MS = 10 * 60_000;

/**
 * The page reads the API and its event stream only, and runs no inline
 * script: a stray task name or error message can never run as code in it,
 * and so can never reach the token the page holds.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** GET / (the dashboard), GET /assets/* (its files and uPlot's), GET /api/events (its live data). */
export const dashboardRoutes: RouteModule = (app, context) => {
  const assets = loadDashboardAssets();
  if (!assets.page) context.logger.warn({}, 'the dashboard page was not found next to gaffer (its dashboard/ folder); GET / answers 503');
  const feed = new ClusterFeed({ backend: context.backend, historyMs: HISTORY_MS, ...(context.pool ? { pool: context.pool } : {}) });
  const streams = new Set<() => void>();

  // An event stream never ends on its own: close them, or closing the server would wait for every open page.
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });
  app.addHook('onClose', async () => {
    await feed.close();
  });

  app.get('/', async (request, reply) => {
    if (!assets.page) {
      return reply.status(503).send(errorBody('dashboard_missing', "the dashboard's files are missing from this install of gaffer; reinstall the package"));
    }
    return sendAsset(request, reply.headers(PAGE_HEADERS), assets.page);
  });

  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { schema: { params: { type: 'object', properties: { '*': { type: 'string', maxLength: 200 } } } } },
    async (request, reply) => {
      const file = assets.files.get(request.params['*']);
      if (!file) throw new ApiError('not_found', `the dashboard has no file ${JSON.stringify(request.params['*'])}`);
      return sendAsset(request, reply, file);
    },
  );

  app.get<{ Querystring: DashboardQuery }>('/api/events', { schema: { querystring: dashboardQuerySchema } }, (request, reply) => {
    const query: DashboardQuery = { ...request.query };
    if (!query.queueFilter) delete query.queueFilter;
    reply.hijack();
    const end = openEventStream(reply.raw, { feed, query, logger: context.logger, historyMs: HISTORY_MS });
    streams.add(end);
    reply.raw.on('close', () => streams.delete(end));
  });
};

/** Small files, kept in memory: revalidated on each load (no-cache) and answered with 304 when unchanged. */
function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  void reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  return reply.type(asset.type).send(asset.body);
}
