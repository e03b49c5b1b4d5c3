import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GafferError } from '../core/errors.js';

/** The HTTP status of each stable error code; the body always carries the code itself. */
const STATUS: Record<string, number> = {
  config_invalid: 400,
  enqueue_options_invalid: 400,
  payload_invalid: 400,
  unknown_task_type: 400,
  request_invalid: 400,
  unauthorized: 401,
  writes_disabled: 403,
  task_not_found: 404,
  dead_letter_not_found: 404,
  pool_not_found: 404,
  not_found: 404,
  payload_too_large: 413,
  body_too_large: 413,
  storage_unavailable: 503,
};

/** An error of the API itself, with a stable code (see STATUS). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Every error leaves as JSON with a stable code; unexpected ones say no more than that they happened. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const fastify = error as FastifyError;
  if (error instanceof GafferError || error instanceof ApiError) {
    void reply.status(STATUS[error.code] ?? 400).send(errorBody(error.code, error.message));
    return;
  }
  if (fastify.validation) {
    void reply.status(400).send(errorBody('request_invalid', `invalid request: ${fastify.message}`));
    return;
  }
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.status(413).send(errorBody('body_too_large', 'the request body is over the limit; send less, or a reference to the data'));
    return;
  }
  if (fastify.statusCode !== undefined && fastify.statusCode < 500) {
    void reply.status(fastify.statusCode).send(errorBody('request_invalid', fastify.message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.status(500).send(errorBody('internal_error', 'the server failed to answer; its log says why'));
}
