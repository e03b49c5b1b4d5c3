import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openReadyBackend, POOL_CONNECT_TIMEOUT_MS, type BackendCliOptions } from '../backend-options.js';
import { GafferClient } from '../../client/client.js';
import { PoolManager } from '../../runtime/pool/pool-manager.js';
import { formatDuration } from '../format/durations.js';
import { DemoStats } from './demo-stats.js';
import { progressBar } from '../format/progress-bar.js';
import { createView } from './live-view.js';
import { mineBlocks, type MiningClient } from './mine-blocks.js';
import { formatSummary } from './summary.js';

export interface DemoOptions {
  blocks: number;
  difficulty: number;
  min: number;
  max?: number;
  scaleDownWindowMs: number;
  /** Where the tasks go: a temporary embedded database unless --data, --broker or --store say otherwise. */
  backend: BackendCliOptions;
}

const MINING_TASKS = fileURLToPath(new URL('./mining-tasks.js', import.meta.url));
const QUEUE = 'demo';
const REFRESH_MS = 200;

/**
 * `gaffer demo`: mines a few blocks on a pool that starts empty, shows it
 * live, prints a summary, and leaves nothing behind (the pool drains, the
 * temporary database is removed unless --data was given).
 */
export async function runDemo(options: DemoOptions, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const embedded = options.backend.broker === undefined && options.backend.store === undefined && !process.env.GAFFER_BROKER;
  const temporary = embedded && options.backend.data === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'gaffer-demo-')) : undefined;
  const backend = await openReadyBackend({ ...options.backend, ...(temporary ? { data: temporary } : {}) }, POOL_CONNECT_TIMEOUT_MS, { groupCommit: true });
  const cores = os.availableParallelism();
  const pool = new PoolManager({
    tasks: MINING_TASKS,
    broker: backend.broker,
    store: backend.store,
    settlement: backend.settlement,
    settings: {
      queue: QUEUE,
      min: options.min,
      ...(options.max === undefined ? {} : { max: options.max }),
      scaleDownWindowMs: options.scaleDownWindowMs,
      targetWaitMs: 500,
    },
  });
  const client: MiningClient = new GafferClient({ backend, queue: QUEUE });
  const stats = new DemoStats(pool);
  const view = createView(out);
  const startedAt = Date.now();
  let blocksFound = 0;
  let miningStartedAt = startedAt;
  let miningMs = 0;

  pool.on('decision', (d) =>
    view.event(`+${((d.at - startedAt) / 1000).toFixed(2)}s  scale ${d.from} → ${d.to} (${d.reason}): ${d.detail}`),
  );
  const interrupt = () => {
    view.close();
    void pool.stop(0).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);

  const render = async () => {
    const [queue] = await backend.broker.stats([QUEUE]);
    const workers = pool.snapshot().workers;
    const count = (state: string) => workers.filter((w) => w.state === state).length;
    const now = Date.now();
    const rate = stats.hashRate(now) / 1e6;
    const elapsed = formatDuration(now - startedAt);
    const decision = pool.lastDecision;
    const fraction = blocksFound / options.blocks;
    const lines = [
      `gaffer demo: mining ${options.blocks} blocks at difficulty ${options.difficulty} on up to ${pool.settings.max} workers (${cores} cores)`,
      `  queue    ready ${queue?.ready ?? 0}  running ${queue?.running ?? 0}`,
      `  workers  ${'●'.repeat(count('busy'))}${'○'.repeat(count('idle'))}${'◌'.repeat(count('starting'))}  busy ${count('busy')}  idle ${count('idle')}  starting ${count('starting')}  desired ${pool.desired}${decision ? ` (${decision.reason})` : ''}`,
      `  hashing  ${rate.toFixed(2)} M/s   ${(stats.hashes / 1e6).toFixed(1)} M hashes`,
      `  blocks   ${blocksFound}/${options.blocks}  [${progressBar(fraction, 30)}] ${Math.round(fraction * 100)}%  ${elapsed}`,
    ];
    const status = `[${elapsed}] queue ready=${queue?.ready ?? 0} running=${queue?.running ?? 0} | workers busy=${count('busy')} idle=${count('idle')} starting=${count('starting')} desired=${pool.desired} | ${rate.toFixed(2)} MH/s | blocks ${blocksFound}/${options.blocks}`;
    view.frame(lines, status);
  };
  const refresher = setInterval(() => void render(), REFRESH_MS);

  try {
    await pool.start();
    miningStartedAt = Date.now();
    const chain = await mineBlocks(client, {
      blocks: options.blocks,
      difficulty: options.difficulty,
      onBatch: (_index, ranges) => (stats.rangesEnqueued += ranges),
      onBlock: (block) => {
        blocksFound++;
        view.event(`block ${block.index} found: nonce ${block.nonce}, hash ${block.hash.slice(0, 16)}… in ${formatDuration(block.ms)}`);
      },
    });
    miningMs = Date.now() - miningStartedAt;
    await waitForMinimum(pool, options.min, options.scaleDownWindowMs + 15_000);
    await render();
    clearInterval(refresher);
    stats.settleCounts();
    view.close();
    out.write(
      `${formatSummary({ chain, stats, cores, miningMs, startedAt, finalWorkers: pool.snapshot().workers.length, min: options.min })}\n`,
    );
  } finally {
    clearInterval(refresher);
    view.close();
    process.removeListener('SIGINT', interrupt);
    await pool.stop();
    await client.close();
    await backend.close();
    if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
  }
}

/** Waits until the pool has retired its idle workers down to its minimum (and they have exited). */
async function waitForMinimum(pool: PoolManager, min: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pool.snapshot().workers.length <= min && pool.desired <= min) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
