import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Restarts of the local services, for the tests that check that nothing is
 * lost across them. They act on this machine's servers (CI starts them the
 * same way): Redis started as CI starts it, keeping nothing on disk.
 *
 * restartRedis returns when the old server was gone (Date.now() once its
 * shutdown returned): a write sent later cannot have reached it. The time
 * before the call would not do: a write sent while redis-cli starts still
 * lands in the old server, and is lost with it.
 */
export function restartRedis(port = 6379): number {
  spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  const stoppedAt = Date.now();
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return stoppedAt;
    spawnSync('sleep', ['0.05']);
  }
  throw new Error(`Redis did not come back on port ${port}`);
}

/**
 * How long a rabbitmqctl command may take. These calls block the test's event
 * loop (no test timeout can fire meanwhile): a RabbitMQ stuck in stop_app, as
 * seen once here, must fail the test instead of hanging the suite.
 */
const RABBITMQCTL_TIMEOUT_MS = 60_000;

function rabbitmqctl(...args: string[]): void {
  try {
    execFileSync('rabbitmqctl', args, { stdio: 'ignore', timeout: RABBITMQCTL_TIMEOUT_MS });
  } catch (error) {
    throw new Error(
      `rabbitmqctl ${args[0]} failed or took over ${RABBITMQCTL_TIMEOUT_MS / 1000} s (${(error as Error).message}); ` +
        'RabbitMQ may be stuck: restart it (rabbitmqctl stop, then rabbitmq-server -detached) before running the tests again',
      { cause: error },
    );
  }
}

/** Stops and starts the RabbitMQ application (the node keeps running; queues and messages survive). */
export function restartRabbitApp(pauseMs = 1000): void {
  rabbitmqctl('stop_app');
  spawnSync('sleep', [String(pauseMs / 1000)]);
  rabbitmqctl('start_app');
}

export function closeRabbitConnections(reason: string): void {
  rabbitmqctl('close_all_connections', reason);
}
