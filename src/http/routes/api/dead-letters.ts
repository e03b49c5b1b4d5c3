import type { FastifyInstance } from 'fastify';
import { DeadLetterNotFoundError } from '../../../core/errors.js';
import type { DeadLetterSelector } from '../../../ports/broker.js';
import { retryDeadLetters } from '../../../runtime/dead-letters.js';
import { ApiError } from '../../http-errors.js';
import type { RouteContext } from '../../route-context.js';
import { deadLetterSchema } from './model-schemas.js';
import { closedObject, MAX_PAGE, pageQuery, pageResponse, queueName, textId, type Page } from './request-schemas.js';

const deadParams = { type: 'object', required: ['id'], properties: { id: textId } } as const;

const selectorBody = closedObject({
  ids: { type: 'array', minItems: 1, maxItems: MAX_PAGE, items: textId },
  queue: queueName,
  all: { const: true },
});

interface SelectorBody {
  ids?: string[];
  queue?: string;
  all?: true;
}

const idList = (name: 'retried' | 'purged', what: string) =>
  ({ 200: { type: 'object', required: [name], properties: { [name]: { type: 'array', items: { type: 'string' }, description: what } } } }) as const;

const retriedResponse = idList('retried', 'ids sent back to their queue, with fresh attempts');
const purgedResponse = idList('purged', 'ids deleted for good');

function selectorFrom(body: SelectorBody): DeadLetterSelector {
  const given = [body.ids !== undefined, body.queue !== undefined, body.all !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new ApiError('request_invalid', 'say which dead letters, with exactly one of: {"ids": ["..."]}, {"queue": "name"} or {"all": true}');
  }
  if (body.ids !== undefined) return { ids: body.ids };
  return body.queue !== undefined ? { queue: body.queue } : { all: true };
}

/** The dead-letter queues: list and inspect them, send letters back to their queue, or delete them. */
export function deadLetterRoutes(api: FastifyInstance, context: RouteContext): void {
  const { broker, store } = context.backend;
  const { logger } = context;

  const retry = async (selector: DeadLetterSelector): Promise<string[]> => {
    // Through the runtime, so that the task records start over as queued too.
    const retried = await retryDeadLetters(broker, store, selector);
    if (retried.length > 0) logger.info({ count: retried.length }, 'dead letters sent back to their queue through the API');
    return retried;
  };
  const purge = async (selector: DeadLetterSelector): Promise<string[]> => {
    const purged = await broker.purgeDead(selector);
    if (purged.length > 0) logger.info({ count: purged.length }, 'dead letters purged through the API');
    return purged;
  };

  api.get<{ Querystring: Page & { queue?: string } }>(
    '/dead',
    {
      schema: {
        querystring: { type: 'object', properties: { queue: queueName, ...pageQuery() } },
        response: { 200: pageResponse(deadLetterSchema) },
      },
    },
    async (request) => {
      const { queue, offset, limit } = request.query;
      const [items, stats] = await Promise.all([
        broker.listDead({ offset, limit, ...(queue === undefined ? {} : { queue }) }),
        broker.stats(queue === undefined ? undefined : [queue]),
      ]);
      return { total: stats.reduce((sum, entry) => sum + entry.dead, 0), offset, limit, items };
    },
  );

  api.get<{ Params: { id: string } }>(
    '/dead/:id',
    { schema: { params: deadParams, response: { 200: deadLetterSchema } } },
    async (request) => {
      const letter = await broker.getDead(request.params.id);
      if (!letter) throw new DeadLetterNotFoundError(request.params.id);
      return letter;
    },
  );

  api.post<{ Params: { id: string } }>(
    '/dead/:id/retry',
    { schema: { params: deadParams, response: retriedResponse } },
    async (request) => {
      const retried = await retry({ ids: [request.params.id] });
      if (retried.length === 0) throw new DeadLetterNotFoundError(request.params.id);
      return { retried };
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/dead/:id',
    { schema: { params: deadParams, response: purgedResponse } },
    async (request) => {
      const purged = await purge({ ids: [request.params.id] });
      if (purged.length === 0) throw new DeadLetterNotFoundError(request.params.id);
      return { purged };
    },
  );

  api.post<{ Body: SelectorBody }>(
    '/dead/retry',
    { schema: { body: selectorBody, response: retriedResponse } },
    async (request) => ({ retried: await retry(selectorFrom(request.body)) }),
  );

  api.post<{ Body: SelectorBody }>(
    '/dead/purge',
    { schema: { body: selectorBody, response: purgedResponse } },
    async (request) => ({ purged: await purge(selectorFrom(request.body)) }),
  );
}
