import { bullmqThroughput } from '../anchors/bullmq-throughput.js';
import type { BenchContext } from '../context.js';
import { makeFigure, type Figure } from '../figure.js';
import { DrainMeter } from '../harness/drain-meter.js';
import { awaitFinishes, enqueueAll, withBenchPool } from '../harness/bench-pool.js';
import { round } from '../harness/time.js';

/**
 * No-op throughput, durable: a backlog of noop tasks is enqueued first, then
 * a pool of `cores` workers drains it. A running pool would start on the
 * backlog while it is still being written, so the pool starts after the
 * enqueue, and the first quarter of the backlog is its warm-up (workers up,
 * code optimized); the clock runs over the rest. BullMQ is timed the same way.
 */
export async function noopThroughput(ctx: BenchContext): Promise<Figure[]> {
  const measured = ctx.quick ? 5000 : 20_000;
  const warmup = Math.round(measured / 4);
  const total = measured + warmup;

  const gaffer = await withBenchPool('noop', { min: ctx.cores, max: ctx.cores }, ctx.cores, async ({ pool, client, ready }) => {
    await enqueueAll(client, Array.from({ length: total }, () => ({ type: 'noop' as const, payload: null })));
    const meter = new DrainMeter(total, warmup, () => ready() >= ctx.cores);
    const drained = awaitFinishes(pool, total, (_event, at) => meter.complete(at));
    const start = performance.now();
    await pool.start();
    await drained;
    return meter.result(start);
  });
  ctx.log(`noop-throughput: gaffer ${gaffer.rate.toFixed(0)} tasks/s over ${gaffer.timedTasks} tasks`);

  const bull = await bullmqThroughput(total, warmup);
  ctx.log('skipped' in bull ? `noop-throughput: ${bull.skipped}` : `noop-throughput: bullmq ${bull.rate.toFixed(0)} jobs/s over ${bull.timedTasks} jobs`);

  return [
    makeFigure({
      id: 'noop-throughput',
      label: `no-op throughput, ${ctx.cores} workers, durable (SQLite)`,
      unit: 'tasks/s',
      gaffer: gaffer.rate,
      anchor: 'skipped' in bull ? null : { name: 'bullmq c=1', value: bull.rate },
      target: { op: '>=', value: 8000 },
      ...('skipped' in bull ? { note: bull.skipped } : {}),
      details: {
        backlog: total,
        warmupTasks: warmup,
        gafferTimedTasks: gaffer.timedTasks,
        gafferTimedMs: round(gaffer.timedMs, 1),
        gafferRateFromPoolStart: round(gaffer.coldRate, 0),
        ...('skipped' in bull
          ? {}
          : { bullmqTimedTasks: bull.timedTasks, bullmqTimedMs: round(bull.timedMs, 1), bullmqRateFromWorkerStart: round(bull.coldRate, 0) }),
      },
    }),
  ];
}
