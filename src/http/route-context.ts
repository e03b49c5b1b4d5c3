import type { FastifyInstance } from 'fastify';
import type { Backend } from '../adapters/open-backend.js';
import type { Logger } from '../ports/logger.js';
import type { PoolManager } from '../runtime/pool/pool-manager.js';

/** What routes can use: the backend, and the pool this server runs beside (none for `gaffer dashboard`). */
export interface RouteContext {
  backend: Backend;
  pool?: PoolManager;
  logger: Logger;
  /** Whether the process is draining (readiness turns false). */
  draining(): boolean;
}

/** One file of routes: it registers them on the app. */
export type RouteModule = (app: FastifyInstance, context: RouteContext) => void | Promise<void>;
