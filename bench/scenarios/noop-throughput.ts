import { amqplibCeiling, CEILING_PREFETCH, type CeilingResult } from '../anchors/amqplib-ceiling.js';
import { bullmqThroughput, type BullmqResult } from '../anchors/bullmq-throughput.js';
import { celeryThroughput, type CeleryResult } from '../anchors/celery-throughput.js';
import type { BenchContext } from '../context.js';
import { makeFigure, type Figure } from '../figure.js';
import { CpuBreakdown, perTaskMicros } from '../harness/cpu-breakdown.js';
import { DrainMeter } from '../harness/drain-meter.js';
import { awaitFinishes, enqueueAll, withBenchPool } from '../harness/bench-pool.js';
import type { ProductionStack } from '../harness/stack.js';
import { medianBy, round } from '../harness/time.js';

/**
 * No-op throughput, durable: a backlog of noop tasks is enqueued first, then
 * a pool of `cores` workers drains it. A running pool would start on the
 * backlog while it is still being written, so the pool starts after the
 * enqueue, and the first quarter of the backlog is its warm-up (workers up,
 * code optimized); the clock runs over the rest. The anchors are timed the
 * same way: the embedded broker against BullMQ with concurrency 1 (issue 2),
 * RabbitMQ and Redis against BullMQ with concurrency 50, Celery's prefork
 * pool and raw amqplib (issue 3).
 */
export async function noopThroughput(ctx: BenchContext): Promise<Figure[]> {
  return ctx.stack.kind === 'embedded' ? embeddedNoop(ctx) : productionNoop(ctx, ctx.stack);
}

async function embeddedNoop(ctx: BenchContext): Promise<Figure[]> {
  const measured = ctx.quick ? 5000 : 20_000;
  const warmup = Math.round(measured / 4);
  const total = measured + warmup;

  const gaffer = await withBenchPool(ctx.stack, 'noop', { min: ctx.cores, max: ctx.cores }, ctx.cores, async ({ pool, client, ready }) => {
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

/** BullMQ's concurrency in issue 3's anchor. */
const BULLMQ_CONCURRENCY = 50;
/** Issue 3: gaffer on RabbitMQ at 5 times Celery's prefork pool. */
const CELERY_FACTOR = 5;

/**
 * Rounds of gaffer, BullMQ, raw amqplib and Celery, one after the other, each
 * figure the median round: on this shared machine one drain can run a third
 * faster or slower than the next (Celery's moved by half between two runs),
 * and a single run of each would let that decide which side wins.
 */
async function productionNoop(ctx: BenchContext, stack: ProductionStack): Promise<Figure[]> {
  // The anchors here are fast (the ceiling drains tens of thousands a second): a longer backlog keeps their timed part long enough to mean something.
  const measured = ctx.quick ? 5000 : 40_000;
  const warmup = Math.round(measured / 4);
  const total = measured + warmup;
  const rounds = ctx.quick ? 1 : 3;

  const gafferRuns: GafferNoopRun[] = [];
  const bullRuns: BullmqResult[] = [];
  const ceilingRuns: CeilingResult[] = [];
  const celeryRuns: CeleryResult[] = [];
  for (let n = 1; n <= rounds; n++) {
    const gaffer = await gafferNoop(ctx, stack, total, warmup);
    gafferRuns.push(gaffer);
    ctx.log(`noop-throughput: round ${n}: gaffer ${gaffer.rate.toFixed(0)} tasks/s over ${gaffer.timedTasks} tasks (enqueue ${((total * 1000) / gaffer.enqueueMs).toFixed(0)} tasks/s)`);
    ctx.log(`noop-throughput: round ${n}: CPU µs per task: ${Object.entries(perTaskMicros(gaffer.cpuMs, gaffer.timedTasks)).map(([part, us]) => `${part} ${us}`).join(', ')}`);
    ctx.log(`noop-throughput: round ${n}: Redis per task: ${gaffer.redisPerTask.summary}`);

    await ctx.quiet('bullmq c=50');
    const bull = await bullmqThroughput(total, warmup, BULLMQ_CONCURRENCY, stack.redisUrl);
    bullRuns.push(bull);
    ctx.log('skipped' in bull ? `noop-throughput: ${bull.skipped}` : `noop-throughput: round ${n}: bullmq c=${BULLMQ_CONCURRENCY} ${bull.rate.toFixed(0)} jobs/s over ${bull.timedTasks} jobs`);

    await ctx.quiet('amqplib');
    const ceiling = await amqplibCeiling(stack, total, warmup);
    ceilingRuns.push(ceiling);
    ctx.log(`noop-throughput: round ${n}: amqplib prefetch ${CEILING_PREFETCH} ${ceiling.rate.toFixed(0)} msg/s over ${ceiling.timedTasks} messages`);

    // Without Celery here, the first round says so and the others do not try again.
    if (!celeryRuns.some((run) => 'skipped' in run)) {
      await ctx.quiet('celery');
      const celery = await celeryThroughput(stack, total, warmup, ctx.cores);
      celeryRuns.push(celery);
      ctx.log(
        'skipped' in celery
          ? `noop-throughput: ${celery.skipped}`
          : `noop-throughput: round ${n}: celery ${celery.version} ${celery.rate.toFixed(0)} tasks/s over ${celery.timedTasks} tasks${celery.stalled ? `; ${celery.stalled}` : ''}`,
      );
    }
    if (n < rounds) await ctx.quiet('gaffer');
  }
  const gaffer = medianBy(gafferRuns, (run) => run.rate);
  const bullDrains = bullRuns.flatMap((run) => ('skipped' in run ? [] : [run]));
  const bull: BullmqResult = bullDrains.length === rounds ? medianBy(bullDrains, (run) => run.rate) : bullRuns.find((run) => 'skipped' in run)!;
  const ceiling = medianBy(ceilingRuns, (run) => run.rate);
  const celeryDrains = celeryRuns.flatMap((run) => ('skipped' in run ? [] : [run]));
  const celery: CeleryResult = celeryRuns.find((run) => 'skipped' in run) ?? medianBy(celeryDrains, (run) => run.rate);
  const celeryStalls = celeryDrains.flatMap((run, index) => (run.stalled ? [`round ${index + 1}: ${run.stalled}`] : []));
  const perTask = perTaskMicros(gaffer.cpuMs, gaffer.timedTasks);

  const label = `no-op throughput, ${ctx.cores} workers, RabbitMQ (confirms, persistent) + Redis${rounds > 1 ? `, median of ${rounds} rounds` : ''}`;
  const shared = {
    rounds,
    gafferRates: gafferRuns.map((run) => round(run.rate, 0)),
    bullmqRates: bullDrains.map((run) => round(run.rate, 0)),
    amqplibRates: ceilingRuns.map((run) => round(run.rate, 0)),
    backlog: total,
    warmupTasks: warmup,
    gafferTimedTasks: gaffer.timedTasks,
    gafferTimedMs: round(gaffer.timedMs, 1),
    gafferRateFromPoolStart: round(gaffer.coldRate, 0),
    gafferEnqueueRate: round((total * 1000) / gaffer.enqueueMs, 0),
    gafferCpuMsOverTimedPart: gaffer.cpuMs,
    gafferCpuMicrosPerTask: perTask,
    gafferRedisPerTask: { scriptCalls: gaffer.redisPerTask.scriptCalls, commands: gaffer.redisPerTask.commands, byCommand: gaffer.redisPerTask.byCommand },
  };
  return [
    makeFigure({
      id: 'noop-throughput-rabbitmq-vs-bullmq',
      label: `${label}, vs BullMQ`,
      unit: 'tasks/s',
      gaffer: gaffer.rate,
      anchor: 'skipped' in bull ? null : { name: `bullmq c=${BULLMQ_CONCURRENCY}`, value: bull.rate },
      target: 'skipped' in bull ? null : { op: '>', value: bull.rate, basis: `bullmq c=${BULLMQ_CONCURRENCY}` },
      ...('skipped' in bull ? { note: bull.skipped } : {}),
      details: {
        ...shared,
        ...('skipped' in bull
          ? {}
          : { bullmqConcurrency: BULLMQ_CONCURRENCY, bullmqTimedTasks: bull.timedTasks, bullmqTimedMs: round(bull.timedMs, 1), bullmqRateFromWorkerStart: round(bull.coldRate, 0) }),
      },
    }),
    makeFigure({
      id: 'noop-throughput-rabbitmq-vs-celery',
      label: `${label}, vs Celery`,
      unit: 'tasks/s',
      gaffer: gaffer.rate,
      anchor: 'skipped' in celery ? null : { name: `celery prefork c=${ctx.cores}`, value: celery.rate },
      target: 'skipped' in celery ? null : { op: '>=', value: CELERY_FACTOR * celery.rate, basis: `${CELERY_FACTOR} × celery` },
      ...('skipped' in celery ? { note: celery.skipped } : celeryStalls.length > 0 ? { note: celeryStalls.join('; ') } : {}),
      details:
        'skipped' in celery
          ? {}
          : {
              celeryRates: celeryDrains.map((run) => round(run.rate, 0)),
              celeryVersion: celery.version,
              celeryPython: celery.python,
              celeryConcurrency: ctx.cores,
              celeryPrefetch: celery.prefetch,
              celeryQueue: 'classic, durable (Celery default)',
              celeryTimedTasks: celery.timedTasks,
              celeryTimedMs: round(celery.timedMs, 1),
              celeryFirstToLastRate: round(celery.firstToLastRate, 0),
              celeryRateFromWorkerStart: round(celery.coldRate, 0),
              celeryPublishMs: round(celery.publishMs, 0),
            },
    }),
    makeFigure({
      id: 'noop-throughput-rabbitmq-vs-amqplib',
      label: `${label}, vs the ceiling`,
      unit: 'tasks/s',
      gaffer: gaffer.rate,
      anchor: { name: `raw amqplib prefetch ${CEILING_PREFETCH}`, value: ceiling.rate },
      target: null,
      details: {
        amqplibQueue: 'quorum, durable; persistent messages published with confirms',
        amqplibTimedTasks: ceiling.timedTasks,
        amqplibTimedMs: round(ceiling.timedMs, 1),
        amqplibRateFromConsumeStart: round(ceiling.coldRate, 0),
        amqplibPublishRate: round((total * 1000) / ceiling.publishMs, 0),
      },
    }),
  ];
}

type GafferNoopRun = Awaited<ReturnType<typeof gafferNoop>>;

/** One drain of the backlog by a fresh pool, with where the CPU went and what Redis ran meanwhile. */
function gafferNoop(ctx: BenchContext, stack: ProductionStack, total: number, warmup: number) {
  return withBenchPool(stack, 'noop', { min: ctx.cores, max: ctx.cores }, ctx.cores, async ({ pool, client, ready, workerPids }) => {
    const enqueueStart = performance.now();
    await enqueueAll(client, Array.from({ length: total }, () => ({ type: 'noop' as const, payload: null })));
    const enqueueMs = performance.now() - enqueueStart;
    return stack.withRedis(async (redis) => {
      // Where the CPU goes while the pool drains: this process (the pool manager, its AMQP and Redis clients), the workers, RabbitMQ, Redis.
      const cpu = new CpuBreakdown({ manager: { self: true }, workers: { pids: () => workerPids }, rabbitmq: { comm: 'beam.smp' }, redis: { comm: 'redis-server' } });
      // And what Redis ran per task, by command (all clients: nothing else of this run talks to it meanwhile).
      let statsBefore: Promise<RedisCommandStats> | undefined;
      const meter = new DrainMeter(total, warmup, () => ready() >= ctx.cores, () => {
        cpu.mark();
        statsBefore = redisCommandStats(redis);
      });
      const drained = awaitFinishes(pool, total, (_event, at) => meter.complete(at));
      const start = performance.now();
      await pool.start();
      await drained;
      const usage = cpu.since();
      const statsAfter = await redisCommandStats(redis);
      const result = meter.result(start);
      const redisPerTask = perTaskCommands(await statsBefore!, statsAfter, result.timedTasks);
      return { ...result, enqueueMs, cpuMs: usage.cpuMs, cpuWallMs: usage.wallMs, redisPerTask };
    });
  });
}

/** Redis's counters by command: calls and µs spent (INFO commandstats counts the commands Lua scripts run too). */
type RedisCommandStats = Map<string, { calls: number; usec: number }>;

async function redisCommandStats(redis: { info(section: string): Promise<string> }): Promise<RedisCommandStats> {
  const stats: RedisCommandStats = new Map();
  for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/**
 * Per task: how many scripts (EVALSHA, EVAL, FCALL: each one round trip,
 * unless pipelined), how many commands in all (those scripts run included),
 * and the busiest commands with Redis's own µs, to see what the store and
 * the broker's ledger cost.
 */
function perTaskCommands(before: RedisCommandStats, after: RedisCommandStats, tasks: number) {
  const byCommand: Record<string, { calls: number; usec: number }> = {};
  let commands = 0;
  let scriptCalls = 0;
  const rows = [...after].map(([name, now]) => {
    const then = before.get(name) ?? { calls: 0, usec: 0 };
    return { name, calls: (now.calls - then.calls) / tasks, usec: (now.usec - then.usec) / tasks };
  });
  for (const row of rows.filter((r) => r.calls > 0).sort((a, b) => b.calls - a.calls)) {
    commands += row.calls;
    if (/^(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro)$/.test(row.name)) scriptCalls += row.calls;
    if (Object.keys(byCommand).length < 12) byCommand[row.name] = { calls: round(row.calls, 2), usec: round(row.usec, 1) };
  }
  const top = Object.entries(byCommand)
    .slice(0, 6)
    .map(([name, row]) => `${name} ${row.calls}`)
    .join(', ');
  return {
    scriptCalls: round(scriptCalls, 2),
    commands: round(commands, 1),
    byCommand,
    summary: `${round(scriptCalls, 2)} script calls, ${round(commands, 1)} commands in all (${top})`,
  };
}
