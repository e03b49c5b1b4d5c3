import type { FastifyInstance } from 'fastify';
import { readCluster } from '../../../views/cluster-view.js';
import { ApiError } from '../../http-errors.js';
import type { RouteContext } from '../../route-context.js';
import { queueViewSchema } from './model-schemas.js';
import { noContent, pageOf, pageQuery, pageResponse, queueName, type Page } from './request-schemas.js';

const queueParams = { type: 'object', required: ['queue'], properties: { queue: queueName } } as const;

/** The queues with their counts, rates and times; pausing and resuming one. */
export function queueRoutes(api: FastifyInstance, context: RouteContext): void {
  const { backend, logger } = context;

  api.get<{ Querystring: Page }>(
    '/queues',
    { schema: { querystring: { type: 'object', properties: pageQuery() }, response: { 200: pageResponse(queueViewSchema) } } },
    async (request) => pageOf((await readCluster(backend, { decisions: 0 })).queues, request.query),
  );

  api.get<{ Params: { queue: string } }>(
    '/queues/:queue',
    { schema: { params: queueParams, response: { 200: queueViewSchema } } },
    async (request) => {
      const { queue } = request.params;
      const view = (await readCluster(backend, { decisions: 0 })).queues.find((candidate) => candidate.queue === queue);
      if (!view) throw new ApiError('not_found', `no queue "${queue}": nothing was ever enqueued to it, no pool serves it and it is not paused`);
      return view;
    },
  );

  // A queue that has no tasks yet may be paused too: its tasks then wait from the first one.
  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    api.post<{ Params: { queue: string } }>(
      `/queues/:queue/${action}`,
      { schema: { params: queueParams, response: noContent } },
      async (request, reply) => {
        const { queue } = request.params;
        await backend.store.setQueuePaused(queue, paused);
        logger.info({ queue }, paused ? 'queue paused through the API' : 'queue resumed through the API');
        return reply.status(204).send();
      },
    );
  }
}
