import { newTaskId } from '../../src/core/ids.js';
import { openBackend } from '../../src/index.js';
import type { BenchContext } from '../context.js';
import { makeFigure, type Figure } from '../figure.js';
import { awaitFinishes, enqueueAll, withBenchPool } from '../harness/bench-pool.js';
import { withTempDir } from '../harness/temp-dir.js';
import { round } from '../harness/time.js';

const CLAIMS = 200;
const HOUR_MS = 3_600_000;

/**
 * Long queues on the embedded broker: what a claim costs with many delayed
 * tasks ahead of the ready ones, and what waiting on every result of a long
 * drain costs the process that waits. Each anchor is the same measurement
 * without the long part, in the same run: a ratio near 1 means that the
 * length costs nothing. RabbitMQ keeps delayed tasks in holding queues and
 * Redis announces results on a channel, so this runs on the embedded broker
 * only.
 */
export async function longQueues(ctx: BenchContext): Promise<Figure[]> {
  if (ctx.stack.kind !== 'embedded') {
    ctx.log('long-queues: measured on the embedded broker only (RabbitMQ holds delayed tasks in queues of their own)');
    return [];
  }
  const delayed = ctx.quick ? 5000 : 20_000;
  const behind = await claimMs(delayed);
  const alone = await claimMs(0);
  ctx.log(`long-queues: a claim takes ${behind.toFixed(3)} ms behind ${delayed} delayed tasks, ${alone.toFixed(3)} ms with none`);

  const tasks = ctx.quick ? 2000 : 8000;
  const awaited = await drainCpuMicros(ctx, tasks, true);
  const unawaited = await drainCpuMicros(ctx, tasks, false);
  ctx.log(`long-queues: ${tasks} no-ops cost the pool's process ${awaited.toFixed(0)} µs each with every handle awaited, ${unawaited.toFixed(0)} µs without`);

  return [
    makeFigure({
      id: 'claim-behind-delayed',
      label: `claim of one ready task behind ${delayed} delayed ones (embedded)`,
      unit: 'ms',
      gaffer: behind,
      anchor: { name: 'with none delayed', value: alone },
      target: null,
      details: { delayed, claims: CLAIMS, behindMs: round(behind, 4), aloneMs: round(alone, 4) },
    }),
    makeFigure({
      id: 'awaited-results-cpu',
      label: `CPU per task of a pool's process draining ${tasks} no-ops, every handle awaited there (embedded)`,
      unit: 'µs',
      gaffer: awaited,
      anchor: { name: 'no handle awaited', value: unawaited },
      target: null,
      details: { tasks, awaitedMicros: round(awaited, 1), unawaitedMicros: round(unawaited, 1) },
    }),
  ];
}

/** Mean time of CLAIMS claims of one task, each the oldest ready one, with `delayed` tasks (due in an hour) enqueued before them. */
function claimMs(delayed: number): Promise<number> {
  return withTempDir('long-queues', async (dir) => {
    const backend = openBackend({ data: dir });
    try {
      const later = Date.now() + HOUR_MS;
      const envelope = (runAt?: number) => ({ id: newTaskId(), queue: 'default', type: 'noop', payload: 'null', enqueuedAt: Date.now(), ...(runAt ? { runAt } : {}) });
      for (let done = 0; done < delayed; done += 1000) await backend.broker.enqueue(Array.from({ length: Math.min(1000, delayed - done) }, () => envelope(later)));
      await backend.broker.enqueue(Array.from({ length: CLAIMS + 20 }, () => envelope()));
      const claim = () => backend.broker.claim({ queue: 'default', max: 1, owner: 'bench', leaseMs: 60_000, readAhead: 0 });
      for (let i = 0; i < 20; i++) await claim();
      const start = performance.now();
      for (let i = 0; i < CLAIMS; i++) if ((await claim()).length !== 1) throw new Error('a claim found no ready task');
      return (performance.now() - start) / CLAIMS;
    } finally {
      await backend.close();
    }
  });
}

/** This process's CPU per task while a pool in it drains `tasks` no-ops, awaiting every handle or only the pool's events. */
function drainCpuMicros(ctx: BenchContext, tasks: number, awaitHandles: boolean): Promise<number> {
  return withBenchPool(ctx.stack, 'long-queues', { min: ctx.cores, max: ctx.cores }, ctx.cores, async ({ pool, client }) => {
    const handles = await enqueueAll(client, Array.from({ length: tasks }, () => ({ type: 'noop' as const, payload: null })));
    const finished = awaitFinishes(pool, tasks);
    const before = process.cpuUsage();
    await pool.start();
    if (awaitHandles) await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 300_000 })));
    await finished;
    const cpu = process.cpuUsage(before);
    return (cpu.user + cpu.system) / tasks;
  });
}
