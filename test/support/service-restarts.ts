import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Restarts of the local services, for the tests that check that nothing is
 * lost across them. They act on this machine's servers (CI starts them the
 * same way): Redis started as CI starts it, keeping nothing on disk.
 */
export function restartRedis(port = 6379): void {
  spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
    spawnSync('sleep', ['0.05']);
  }
  throw new Error(`Redis did not come back on port ${port}`);
}

/** Stops and starts the RabbitMQ application (the node keeps running; queues and messages survive). */
export function restartRabbitApp(pauseMs = 1000): void {
  execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
  spawnSync('sleep', [String(pauseMs / 1000)]);
  execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
}

export function closeRabbitConnections(reason: string): void {
  execFileSync('rabbitmqctl', ['close_all_connections', reason], { stdio: 'ignore' });
}
