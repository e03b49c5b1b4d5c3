import type { Logger } from 'pino';
import type { Backend } from '../adapters/open-backend.js';

/** For the long-running commands: an outage of RabbitMQ or Redis, and its end, in the log. */
export function logServiceChanges(backend: Backend, logger: Logger): void {
  backend.watchServices(({ service, url, up, reason, blocked }) => {
    if (blocked === true) {
      logger.warn({ service, url, reason }, `${service} at ${url} blocks this connection (${reason}): what it publishes waits until the alarm lifts; free disk space or memory on that server`);
    } else if (blocked === false) logger.info({ service, url }, `${service} at ${url} takes what this connection publishes again`);
    else if (up) logger.info({ service, url }, `reconnected to ${service} at ${url}`);
    else logger.warn({ service, url, reason }, `lost the connection to ${service} at ${url}${reason ? ` (${reason})` : ''}; reconnecting, and the work goes on once it is back`);
  });
}

/** For the long-running commands: a start that waits for RabbitMQ and Redis says so (see openReadyBackend's onSlow). */
export function logWaiting(logger: Logger): (backend: Backend, timeoutMs: number) => void {
  return (backend, timeoutMs) => logger.warn({ backend: backend.description }, `waiting for RabbitMQ and Redis to answer; giving up after ${timeoutMs / 1000} s`);
}
