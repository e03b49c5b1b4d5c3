import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../route-context.js';
import { clusterRoutes } from './api/cluster.js';
import { deadLetterRoutes } from './api/dead-letters.js';
import { decisionRoutes } from './api/decisions.js';
import { poolRoutes } from './api/pools.js';
import { queueRoutes } from './api/queues.js';
import { taskRoutes } from './api/tasks.js';
import { formatValidationErrors } from './api/validation-messages.js';

const RESOURCES = [clusterRoutes, queueRoutes, poolRoutes, taskRoutes, deadLetterRoutes, decisionRoutes];

/**
 * The JSON API under /api: reads are open, writes need the bearer token
 * (server.ts checks it before any route runs). Every route has a schema for
 * what it takes and what it answers.
 */
export const apiRoutes: RouteModule = async (app, context) => {
  await app.register(
    async (api) => {
      api.setSchemaErrorFormatter(formatValidationErrors);
      acceptEmptyJson(api);
      for (const resource of RESOURCES) resource(api, context);
    },
    { prefix: '/api' },
  );
};

/**
 * Commands without a body (pause, resume, cancel, retry one) are often sent
 * with "Content-Type: application/json" and nothing else, by fetch wrappers
 * and curl habits: take an empty body as no body instead of refusing it.
 * Anything else goes to fastify's own parser, with its prototype-poisoning
 * checks.
 */
function acceptEmptyJson(api: FastifyInstance): void {
  const parseJson = api.getDefaultJsonParser('error', 'error');
  api.removeContentTypeParser('application/json');
  api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = String(body);
    if (text === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
