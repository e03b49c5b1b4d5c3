import type { Logger } from 'pino';
import type { Backend } from '../adapters/open-backend.js';

/** For the long-running commands: an outage of RabbitMQ or Redis, and its end, in the log. */
export function logServiceChanges(backend: Backend, logger: Logger): void {
  backend.watchServices(({ service, url, up, reason }) => {
    if (up) logger.info({ service, url }, `reconnected to ${service} at ${url}`);
    else logger.warn({ service, url, reason }, `lost the connection to ${service} at ${url}${reason ? ` (${reason})` : ''}; reconnecting, and the work goes on once it is back`);
  });
}
