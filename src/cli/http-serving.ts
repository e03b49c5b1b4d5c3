import net from 'node:net';
import { ConfigError } from '../core/errors.js';
import { assertSafeToBind, parseBindAddress, type BindAddress } from '../http/bind-address.js';
import type { RouteContext } from '../http/route-context.js';
import type { RunningHttpServer } from '../http/server.js';
import type { Logger } from '../ports/logger.js';

/** Where and how a command serves HTTP, decided before anything else starts. */
export interface HttpPlan {
  address: BindAddress;
  /** GAFFER_TOKEN, from the environment only: a flag would show it in `ps`. */
  token?: string;
  /**
   * Given on the command line. A busy default port is not worth failing for
   * (a second `gaffer up` on one machine is normal): only a chosen one is.
   */
  explicit: boolean;
}

/** How long open streams (the dashboard's events) may hold a closing server. */
const CLOSE_GRACE_MS = 2000;

/**
 * Parses --http, reads the token, refuses to serve beyond loopback without
 * one, and checks the address can be bound: all before a pool or worker
 * starts, so a mistake is one line and nothing to clean up. Undefined: serve
 * nothing (--no-http, or the default port is busy, with a warning).
 */
export async function planHttp(value: string | false, explicit: boolean, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<HttpPlan | undefined> {
  if (value === false) return undefined;
  const address = parseBindAddress(value);
  const token = env.GAFFER_TOKEN || undefined;
  assertSafeToBind(address, token);
  const plan: HttpPlan = { address, explicit, ...(token === undefined ? {} : { token }) };
  try {
    await probeBind(address);
  } catch (error) {
    return skipOrThrow(plan, error, logger);
  }
  return plan;
}

/** Listens; undefined when the default port was taken meanwhile (warned). */
export async function serveHttp(plan: HttpPlan, context: RouteContext, logger: Logger): Promise<RunningHttpServer | undefined> {
  let server: RunningHttpServer;
  try {
    // Loaded only to serve: fastify and prom-client cost the commands that never do (enqueue, status, dead) a fifth of a second here.
    const { startHttpServer } = await import('../http/server.js');
    server = await startHttpServer({ address: plan.address, context, ...(plan.token === undefined ? {} : { token: plan.token }) });
  } catch (error) {
    return skipOrThrow(plan, error, logger);
  }
  logger.info(
    { url: server.url, writes: plan.token ? 'enabled, with the bearer token GAFFER_TOKEN' : 'disabled: set GAFFER_TOKEN to enable them' },
    `HTTP API, metrics and dashboard on ${server.url}/`,
  );
  return server;
}

/**
 * Closes the server; connections still open after a grace period (a
 * dashboard's event stream, say) are cut, so a shutdown never hangs on a
 * browser tab.
 */
export async function closeHttp(server: RunningHttpServer, logger: Logger): Promise<void> {
  const closing = server.close();
  const timer = setTimeout(() => {
    logger.warn({}, 'HTTP connections still open at shutdown; closing them');
    server.app.server.closeAllConnections();
  }, CLOSE_GRACE_MS);
  try {
    await closing;
  } finally {
    clearTimeout(timer);
  }
}

function skipOrThrow(plan: HttpPlan, error: unknown, logger: Logger): undefined {
  if (error instanceof ConfigError) throw error;
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${plan.address.host}:${plan.address.port}`;
  if (code === 'EADDRINUSE' && !plan.explicit) {
    logger.warn(
      { address: where },
      `not serving HTTP: ${where} is in use (another gaffer up on this machine?); pass --http 127.0.0.1:<port> to serve elsewhere, or --no-http`,
    );
    return undefined;
  }
  throw new ConfigError(`cannot serve HTTP on ${where}: ${describeListenError(plan.address, error)}`);
}

function describeListenError(address: BindAddress, error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return 'the address is in use (another gaffer up or dashboard?); pass --http with another port';
    case 'EACCES':
      return `not allowed to listen on port ${address.port} (ports below 1024 need privileges); pick a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `${address.host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name "${address.host}"`;
    default:
      return (error as Error).message;
  }
}

/** Binds the address and lets it go at once: the check that it is free and ours. */
function probeBind(address: BindAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: address.host, port: address.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
