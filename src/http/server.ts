import Fastify, { type FastifyInstance } from 'fastify';
import { requireToken } from './bearer-token.js';
import { assertSafeToBind, type BindAddress } from './bind-address.js';
import { errorBody, handleError } from './http-errors.js';
import type { RouteContext, RouteModule } from './route-context.js';
import { apiRoutes } from './routes/api-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { probeRoutes } from './routes/probe-routes.js';

/** Bodies are tasks and small commands: a payload's own limit (1 MiB) plus its envelope. */
const BODY_LIMIT_BYTES = 1024 * 1024 + 64 * 1024;

const ROUTES: readonly RouteModule[] = [probeRoutes, apiRoutes, metricsRoutes, dashboardRoutes];

export interface HttpServerOptions {
  address: BindAddress;
  /** GAFFER_TOKEN: needed by every write, and to serve beyond loopback at all. */
  token?: string;
  context: RouteContext;
}

export interface RunningHttpServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the app (routes, auth, errors) without listening: tests inject requests into it. */
export async function buildHttpApp(options: Omit<HttpServerOptions, 'address'>): Promise<FastifyInstance> {
  // Task ids run to 200 characters and queue names to 128: path parameters must fit them.
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false, routerOptions: { maxParamLength: 512 } });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  app.addHook('onRequest', requireToken(options.token));
  for (const routes of ROUTES) await routes(app, options.context);
  return app;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  assertSafeToBind(options.address, options.token);
  const app = await buildHttpApp(options);
  try {
    await app.listen({ host: options.address.host, port: options.address.port });
  } catch (error) {
    // What the routes started when they registered (timers, subscriptions) must not outlive a failed start.
    await app.close();
    throw error;
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : options.address.port;
  const host = options.address.host.includes(':') ? `[${options.address.host}]` : options.address.host;
  return { url: `http://${host}:${port}`, app, close: () => app.close() };
}
