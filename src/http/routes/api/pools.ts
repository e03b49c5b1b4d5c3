import type { FastifyInstance } from 'fastify';
import type { PoolLimits } from '../../../ports/store.js';
import { ApiError } from '../../http-errors.js';
import type { RouteContext } from '../../route-context.js';
import { poolSchema } from './model-schemas.js';
import { closedObject, noContent, pageOf, pageQuery, pageResponse, poolId, type Page } from './request-schemas.js';

/** Far above any machine or cluster; it only keeps absurd numbers out of the store. */
const MAX_WORKERS = 100_000;

const poolParams = { type: 'object', required: ['id'], properties: { id: poolId } } as const;

const limitsBody = closedObject(
  {
    min: { type: 'integer', minimum: 0, maximum: MAX_WORKERS, description: 'workers kept even when idle' },
    max: { type: 'integer', minimum: 1, maximum: MAX_WORKERS, description: 'workers never exceeded' },
  },
  ['min', 'max'],
);

/**
 * The live pools and their workers; their min and max changed at run time
 * (as `celery control autoscale` does). A pool applies a change within its
 * heartbeat.
 */
export function poolRoutes(api: FastifyInstance, context: RouteContext): void {
  const { store } = context.backend;
  const { logger } = context;

  async function assertLive(id: string): Promise<void> {
    const pools = await store.listPools();
    if (!pools.some((pool) => pool.id === id)) {
      throw new ApiError('pool_not_found', `no live pool with id "${id}"; GET /api/pools lists them (a stopped pool's id is gone)`);
    }
  }

  api.get<{ Querystring: Page }>(
    '/pools',
    { schema: { querystring: { type: 'object', properties: pageQuery() }, response: { 200: pageResponse(poolSchema) } } },
    async (request) => pageOf(await store.listPools(), request.query),
  );

  api.put<{ Params: { id: string }; Body: PoolLimits }>(
    '/pools/:id/limits',
    { schema: { params: poolParams, body: limitsBody, response: noContent } },
    async (request, reply) => {
      const { id } = request.params;
      const { min, max } = request.body;
      if (min > max) throw new ApiError('request_invalid', `min (${min}) is above max (${max}); lower min or raise max`);
      await assertLive(id);
      await store.setPoolLimits(id, { min, max });
      logger.info({ pool: id, min, max }, 'pool limits set through the API');
      return reply.status(204).send();
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/pools/:id/limits',
    { schema: { params: poolParams, response: noContent } },
    async (request, reply) => {
      const { id } = request.params;
      await assertLive(id);
      await store.setPoolLimits(id, null);
      logger.info({ pool: id }, 'pool limits given back to its settings through the API');
      return reply.status(204).send();
    },
  );
}
