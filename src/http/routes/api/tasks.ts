import type { FastifyInstance } from 'fastify';
import { GafferClient } from '../../../client/client.js';
import { TaskNotFoundError } from '../../../core/errors.js';
import type { EnqueueOptions } from '../../../core/envelope.js';
import { cancelTasks } from '../../../runtime/cancellation.js';
import type { RouteContext } from '../../route-context.js';
import { taskRecordSchema } from './model-schemas.js';
import { closedObject, textId } from './request-schemas.js';

interface EnqueueBody extends EnqueueOptions {
  type: string;
  payload: unknown;
}

/*
 * The options are only typed here: the client checks their values (queue
 * names, ids, the delay) and the payload's size, with the same messages a
 * TypeScript producer gets, and http-errors.ts maps its error codes
 * (enqueue_options_invalid 400, payload_invalid 400, payload_too_large 413).
 */
const enqueueBody = closedObject(
  {
    type: { type: 'string', minLength: 1, maxLength: 200, description: 'a task type the workers\' task module defines' },
    payload: { description: 'any JSON; checked against the task type\'s schema by the worker' },
    queue: { type: 'string' },
    key: { type: 'string', description: 'tasks of one key run one at a time, in order' },
    id: { type: 'string', description: 'makes the enqueue idempotent' },
    group: { type: 'string', description: 'to cancel tasks together' },
    delayMs: { type: 'integer', description: 'run no earlier than this many milliseconds from now' },
  },
  ['type', 'payload'],
);

const taskParams = { type: 'object', required: ['id'], properties: { id: textId } } as const;

/** One task: enqueue it (for producers in any language), read its record, cancel it. */
export function taskRoutes(api: FastifyInstance, context: RouteContext): void {
  const { backend } = context;
  const client = new GafferClient({ backend });

  api.get<{ Params: { id: string } }>(
    '/tasks/:id',
    { schema: { params: taskParams, response: { 200: taskRecordSchema } } },
    async (request) => {
      const [record] = await backend.store.getTasks([request.params.id]);
      if (!record) throw new TaskNotFoundError(request.params.id);
      return record;
    },
  );

  api.post<{ Body: EnqueueBody }>(
    '/tasks',
    {
      schema: {
        body: enqueueBody,
        response: {
          201: { type: 'object', required: ['id', 'created'], properties: { id: { type: 'string' }, created: { type: 'boolean' } } },
          200: {
            type: 'object',
            description: 'a task with this id exists already: nothing was enqueued',
            required: ['id', 'created'],
            properties: { id: { type: 'string' }, created: { type: 'boolean' } },
          },
        },
      },
    },
    async (request, reply) => {
      const { type, payload, ...options } = request.body;
      const handle = await client.enqueue(type, payload, options);
      return reply
        .status(handle.created ? 201 : 200)
        .header('location', `/api/tasks/${encodeURIComponent(handle.id)}`)
        .send({ id: handle.id, created: handle.created });
    },
  );

  api.post<{ Params: { id: string } }>(
    '/tasks/:id/cancel',
    {
      schema: {
        params: taskParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'outcome'],
            properties: {
              id: { type: 'string' },
              outcome: {
                type: 'string',
                enum: ['cancelled', 'stopping', 'finished'],
                description: 'cancelled: it will never run; stopping: its pool was asked to stop it; finished: it had ended already',
              },
            },
          },
        },
      },
    },
    async (request) => {
      const [result] = await cancelTasks(backend.broker, backend.store, { ids: [request.params.id] }, Date.now());
      if (!result || result.outcome === 'unknown') throw new TaskNotFoundError(request.params.id);
      return { id: result.id, outcome: result.outcome };
    },
  );
}
