import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../../route-context.js';
import { decisionSchema } from './model-schemas.js';
import { DEFAULT_PAGE, MAX_PAGE, poolId } from './request-schemas.js';

/** GET /api/decisions: the scaling decisions, newest first, of every pool or of one. */
export function decisionRoutes(api: FastifyInstance, context: RouteContext): void {
  api.get<{ Querystring: { limit: number; pool?: string } }>(
    '/decisions',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE }, pool: poolId },
        },
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: decisionSchema } } },
        },
      },
    },
    async (request) => {
      const { limit, pool } = request.query;
      return { items: await context.backend.store.listDecisions({ limit, ...(pool === undefined ? {} : { poolId: pool }) }) };
    },
  );
}
