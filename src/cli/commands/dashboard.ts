import type { Command } from 'commander';
import { pino } from 'pino';
import { DEFAULT_HTTP_ADDRESS } from '../../http/bind-address.js';
import type { RunningHttpServer } from '../../http/server.js';
import { openReadyBackend, POOL_CONNECT_TIMEOUT_MS, withBackendOptions, type BackendCliOptions } from '../backend-options.js';
import { closeHttp, planHttp, serveHttp } from '../http-serving.js';
import { logServiceChanges, logWaiting } from '../service-logging.js';

interface DashboardOptions extends BackendCliOptions {
  http: string;
  logLevel: string;
}

export function registerDashboard(program: Command): void {
  withBackendOptions(
    program
      .command('dashboard')
      .description('serve the HTTP API, metrics and dashboard of every queue and pool, without running a pool')
      .option('--http <host:port>', 'where to serve; beyond loopback only with GAFFER_TOKEN set (it also enables writes)', DEFAULT_HTTP_ADDRESS)
      .option('--log-level <level>', 'debug, info, warn or error', 'info'),
  ).action((options: DashboardOptions) => runDashboard(options));
}

/** Exit codes of a process ended by a signal, as shells report them. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

async function runDashboard(options: DashboardOptions): Promise<void> {
  const logger = pino({ name: 'gaffer', level: options.logLevel }, pino.destination(2));
  // Serving is this command's whole job: a busy port is an error here, default or not.
  const http = (await planHttp(options.http, true, logger))!;
  const backend = await openReadyBackend(options, POOL_CONNECT_TIMEOUT_MS, { onSlow: logWaiting(logger) });
  logServiceChanges(backend, logger);
  let draining = false;
  let server: RunningHttpServer | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (draining) process.exit(SIGNAL_EXIT[signal] ?? 1); // a second signal: do not wait for the close
      draining = true;
      logger.info({ signal }, 'stopping; send the signal again to stop at once');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    server = await serveHttp(http, { backend, logger, draining: () => draining }, logger);
    logger.info({ backend: backend.description }, 'serving the whole cluster; no pool runs in this process');
    await stopRequested;
  } finally {
    if (server) await closeHttp(server, logger);
    await backend.close();
  }
}
