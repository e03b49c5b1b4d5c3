import type { FastifyInstance } from 'fastify';
import { readCluster } from '../../../views/cluster-view.js';
import type { RouteContext } from '../../route-context.js';
import { decisionSchema, poolSchema, queueViewSchema } from './model-schemas.js';
import { pageQuery } from './request-schemas.js';

const DEFAULT_DECISIONS = 50;
const MAX_DECISIONS = 1000;

interface ClusterQuery {
  queueOffset: number;
  queueLimit: number;
  poolOffset: number;
  poolLimit: number;
  decisions: number;
}

/** GET /api/cluster: the whole picture in one read, with queues and pools a page at a time. */
export function clusterRoutes(api: FastifyInstance, context: RouteContext): void {
  api.get<{ Querystring: ClusterQuery }>(
    '/cluster',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...pageQuery('queue'),
            ...pageQuery('pool'),
            decisions: { type: 'integer', minimum: 0, maximum: MAX_DECISIONS, default: DEFAULT_DECISIONS },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['at', 'backend', 'queues', 'pools', 'decisions', 'totals'],
            properties: {
              at: { type: 'number' },
              backend: { type: 'string', description: 'where the data lives, without credentials' },
              queues: { type: 'array', items: queueViewSchema },
              pools: { type: 'array', items: poolSchema },
              decisions: { type: 'array', items: decisionSchema },
              totals: {
                type: 'object',
                description: 'how many queues and pools there are in all, for paging',
                properties: { queues: { type: 'integer' }, pools: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { queueOffset, queueLimit, poolOffset, poolLimit, decisions } = request.query;
      const view = await readCluster(context.backend, { decisions });
      return {
        ...view,
        queues: view.queues.slice(queueOffset, queueOffset + queueLimit),
        pools: view.pools.slice(poolOffset, poolOffset + poolLimit),
        totals: { queues: view.queues.length, pools: view.pools.length },
      };
    },
  );
}

