import { after } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openBackend, type Backend } from '../../../src/adapters/open-backend.js';
import { GafferClient } from '../../../src/client/client.js';
import type { DeadReason } from '../../../src/core/task-record.js';
import type { PoolManager } from '../../../src/runtime/pool/pool-manager.js';
import { buildHttpApp } from '../../../src/http/server.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { tempDataDir } from '../../support/temp-data.js';

export const TOKEN = 'test-token-3f9a';

export interface ApiHarness {
  app: FastifyInstance;
  backend: Backend;
  /** Everything the routes logged, as one JSON line per entry. */
  logs: string[];
  get(url: string): Promise<LightMyRequestResponse>;
  /** A write with the right token; `payload` is sent as JSON. */
  write(method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse>;
}

export interface ApiOptions {
  /** The server's GAFFER_TOKEN; null for a server without one (writes disabled). */
  token?: string | null;
  /** A backend opened elsewhere (a pool's, a fake); a fresh embedded one otherwise. */
  backend?: Backend;
  pool?: PoolManager;
}

/**
 * The HTTP app on a real backend, driven with inject (no port); the app, and
 * the backend if this opened it, are closed when the file's tests end.
 */
export async function startApi(options: ApiOptions = {}): Promise<ApiHarness> {
  const backend = options.backend ?? openBackend({ data: tempDataDir('api') });
  const { logger, lines } = recordingLogger();
  const token = options.token === undefined ? TOKEN : (options.token ?? undefined);
  const app = await buildHttpApp({
    ...(token === undefined ? {} : { token }),
    context: { backend, logger, draining: () => false, ...(options.pool ? { pool: options.pool } : {}) },
  });
  after(async () => {
    await app.close();
    if (!options.backend) await backend.close();
  });
  return {
    app,
    backend,
    get logs() {
      return lines.map(({ level, message, fields }) => JSON.stringify({ level, message, ...fields }));
    },
    get: (url) => app.inject({ method: 'GET', url }),
    write: (method, url, payload) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${TOKEN}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
  };
}

/** The error code of an error response. */
export function errorCode(response: LightMyRequestResponse): string {
  return (response.json() as { error: { code: string } }).error.code;
}

export function errorMessage(response: LightMyRequestResponse): string {
  return (response.json() as { error: { message: string } }).error.message;
}

/**
 * Dead letters made without a pool: tasks enqueued, claimed and dead-lettered
 * through the broker, their records marked dead as a pool would.
 */
export async function makeDeadLetters(backend: Backend, queue: string, count: number, message = 'boom'): Promise<string[]> {
  const client = new GafferClient({ backend });
  const handles = await client.enqueueMany(Array.from({ length: count }, (_, index) => ({ type: 'fail', payload: { message, index }, options: { queue } })));
  const deliveries = await backend.broker.claim({ queue, max: count, owner: 'api-test', leaseMs: 60_000 });
  for (const delivery of deliveries) {
    const reason: DeadReason = { kind: 'failed', message, stack: `Error: ${message}\n    at handler`, attempts: 3 };
    await backend.broker.deadLetter(delivery, reason);
    const { id, type } = delivery.envelope;
    await backend.store.updateTasks([{ id, queue, type, state: 'dead', attempts: 3, deadReason: reason, finishedAt: Date.now() }]);
  }
  return handles.map((handle) => handle.id);
}
