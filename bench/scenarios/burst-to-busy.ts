import { spawnFloorMs } from '../anchors/spawn-floor.js';
import { calibrate } from '../calibrate.js';
import type { BenchContext } from '../context.js';
import { makeFigure, type Figure } from '../figure.js';
import { awaitFinishes, TASKS_MODULE, withBenchPool } from '../harness/bench-pool.js';
import { epochNow, median, round, waitFor } from '../harness/time.js';

const RUNS = 3;
const BURST = 50;

/**
 * Burst to all cores busy: a fresh pool with min 0 retires its first worker,
 * then a client in the same process enqueues 50 burn tasks of ~20 ms. Timed
 * from just before enqueueMany to the moment the `cores`-th distinct worker
 * began a task, by the workers' own clocks (task-finished startedAt). Each
 * run gets a fresh pool, so every burst meets a pool that has never seen work.
 * After each run, the anchors: `cores` bare Node processes started together,
 * and as many that import the same task module (see spawnFloorMs).
 */
export async function burstToBusy(ctx: BenchContext): Promise<Figure[]> {
  const { iterations } = calibrate(20, 9);
  const gaffer: number[] = [];
  const managerView: number[] = [];
  const floor: number[] = [];
  const loadFloor: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // A short scale-down window only makes the pool reach zero sooner; scaling up does not depend on it.
    const settings = { min: 0, max: ctx.cores, scaleDownWindowMs: 1000 };
    const result = await withBenchPool(ctx.stack, 'burst', settings, ctx.cores, async ({ pool, client }) => {
      await pool.start();
      await waitFor(() => pool.snapshot().workers.length === 0, 'the min-0 pool to retire its first worker');
      const firstStart = new Map<number, number>();
      const firstDispatch = new Map<number, number>();
      pool.on('task-started', ({ pid, at }) => firstDispatch.set(pid, Math.min(at, firstDispatch.get(pid) ?? Infinity)));
      const done = awaitFinishes(pool, BURST, ({ pid, startedAt }) => {
        if (startedAt !== undefined) firstStart.set(pid, Math.min(startedAt, firstStart.get(pid) ?? Infinity));
      });
      const t0 = epochNow();
      await client.enqueueMany(Array.from({ length: BURST }, () => ({ type: 'burn' as const, payload: { iterations } })));
      await done;
      const starts = [...firstStart.values()].sort((a, b) => a - b);
      if (starts.length < ctx.cores) throw new Error(`only ${starts.length} worker(s) ran the burst of ${BURST}; never were all ${ctx.cores} cores busy`);
      const dispatches = [...firstDispatch.values()].sort((a, b) => a - b);
      return { ms: starts[ctx.cores - 1]! - t0, managerMs: dispatches[ctx.cores - 1]! - t0 };
    });
    gaffer.push(result.ms);
    managerView.push(result.managerMs);
    floor.push(await spawnFloorMs(ctx.cores));
    loadFloor.push(await spawnFloorMs(ctx.cores, TASKS_MODULE));
    ctx.log(
      `burst-to-busy: run ${run + 1}: ${result.ms.toFixed(1)} ms ` +
        `(bare node ×${ctx.cores} start: ${floor.at(-1)!.toFixed(1)} ms; with the task module imported: ${loadFloor.at(-1)!.toFixed(1)} ms)`,
    );
  }
  const details = {
    runs: RUNS,
    burst: BURST,
    taskMs: 20,
    gafferMs: gaffer.map((ms) => round(ms, 1)),
    gafferManagerViewMs: managerView.map((ms) => round(ms, 1)),
    bareNodeStartMs: floor.map((ms) => round(ms, 1)),
    nodeStartWithTaskModuleMs: loadFloor.map((ms) => round(ms, 1)),
  };
  // Issue 2 sets the target on the embedded broker; issue 3 sets none for RabbitMQ and Redis.
  const production = ctx.stack.kind === 'production';
  const label = `burst (${BURST} × ~20 ms) on an empty pool to ${ctx.cores} cores busy${production ? ', RabbitMQ + Redis' : ''}`;
  const id = production ? 'burst-to-busy-rabbitmq' : 'burst-to-busy';
  const target = production ? null : ({ op: '<', value: 300 } as const);
  const anchorName = `bare node ×${ctx.cores} start`;
  return [
    makeFigure({ id: `${id}-median`, label: `${label}, median of ${RUNS}`, unit: 'ms', gaffer: median(gaffer), anchor: { name: anchorName, value: median(floor) }, target, details }),
    makeFigure({ id: `${id}-max`, label: `${label}, max of ${RUNS}`, unit: 'ms', gaffer: Math.max(...gaffer), anchor: { name: anchorName, value: Math.max(...floor) }, target }),
    makeFigure({
      id: `${id}-vs-module-load`,
      label: `${label}, median of ${RUNS}, vs Node processes that import the task module`,
      unit: 'ms',
      gaffer: median(gaffer),
      anchor: { name: `node ×${ctx.cores} start + task module import`, value: median(loadFloor) },
      target: null,
    }),
  ];
}
