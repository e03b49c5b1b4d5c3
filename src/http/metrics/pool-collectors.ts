import { Counter, Histogram, type Registry } from 'prom-client';
import type { DecisionRecord } from '../../ports/store.js';
import type { TaskFinishedEvent, WorkerExitedEvent } from '../../runtime/pool/pool-events.js';
import type { PoolManager } from '../../runtime/pool/pool-manager.js';

/**
 * CPU tasks run from about a millisecond (a hash) to many minutes (a render);
 * waits span the same range. Upper bounds in seconds.
 */
export const TASK_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** Exits the pool did not plan (a scale-down, a recycle or a drain are planned); it replaces the worker. */
export const RESTART_CAUSES: ReadonlySet<WorkerExitedEvent['cause']> = new Set(['crashed', 'timeout', 'cancelled', 'start_timeout']);

/**
 * A task type a producer made up never reaches a handler (it is dead-lettered
 * as bad input); it gets this label, so that made-up names cannot create
 * series without bound.
 */
export const UNKNOWN_TYPE_LABEL = '(unknown)';

/**
 * Counters and histograms fed by the events of the pool this server runs
 * beside. Returns a function that stops listening.
 */
export function collectPoolEvents(registry: Registry, pool: PoolManager): () => void {
  const queue = pool.settings.queue;
  const poolId = pool.id;
  const registers = [registry];

  const tasks = new Counter({
    name: 'gaffer_tasks_total',
    help: 'Task runs that ended, by what the task became: succeeded, retrying (failed, retried after a backoff), queued (its worker died; back in the queue), dead, cancelled.',
    labelNames: ['queue', 'type', 'outcome'] as const,
    registers,
  });
  const waitSeconds = new Histogram({
    name: 'gaffer_task_wait_seconds',
    help: 'Time from when a task was due (enqueued, or its delay over) to its start; first attempts only.',
    labelNames: ['queue', 'type'] as const,
    buckets: TASK_SECONDS_BUCKETS,
    registers,
  });
  const runSeconds = new Histogram({
    name: 'gaffer_task_run_seconds',
    help: 'Wall time of each task run, from dispatch to its answer (or to its worker dying or being killed).',
    labelNames: ['queue', 'type'] as const,
    buckets: TASK_SECONDS_BUCKETS,
    registers,
  });
  const timeouts = new Counter({
    name: 'gaffer_task_timeouts_total',
    help: 'Task runs that overran their time limit: their worker was killed.',
    labelNames: ['queue', 'type'] as const,
    registers,
  });
  const quarantines = new Counter({
    name: 'gaffer_task_quarantines_total',
    help: 'Tasks sent to the dead-letter queue because their workers kept dying (reason crashed, after maxCrashes) or kept overrunning their time limit (reason timeout).',
    labelNames: ['queue', 'type', 'reason'] as const,
    registers,
  });
  const restarts = new Counter({
    name: 'gaffer_worker_restarts_total',
    help: 'Workers that ended without the pool planning it, by cause: crashed, timeout (killed over its time limit), cancelled (killed when its task did not stop), start_timeout.',
    labelNames: ['pool', 'cause'] as const,
    registers,
  });
  const exits = new Counter({
    name: 'gaffer_worker_exits_total',
    help: 'Every worker that ended, by cause: the restart causes, plus retired (scaled down, or recycled after its task or memory limit) and drained.',
    labelNames: ['pool', 'cause'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'gaffer_scaling_decisions_total',
    help: "The scaling policy's recorded decisions, by direction (up, down, or hold at the current size) and reason.",
    labelNames: ['pool', 'direction', 'reason'] as const,
    registers,
  });
  // Present from the first scrape, so that rate() and alerts see the first restart.
  for (const cause of RESTART_CAUSES) restarts.inc({ pool: poolId, cause }, 0);

  const onFinished = (event: TaskFinishedEvent): void => {
    const dead = event.deadReason;
    const badInput = dead?.kind === 'bad_input';
    const type = dead?.kind === 'bad_input' && dead.code === 'unknown_type' ? UNKNOWN_TYPE_LABEL : event.type;
    tasks.inc({ queue, type, outcome: event.state });
    if (event.waitMs !== undefined) waitSeconds.observe({ queue, type }, event.waitMs / 1000);
    // Bad input never reached a handler; a task cancelled in a worker's lookahead slot never started.
    const ran = !badInput && !(event.state === 'cancelled' && event.runMs === 0);
    if (ran) runSeconds.observe({ queue, type }, event.runMs / 1000);
    if (dead?.kind === 'crashed' || dead?.kind === 'timeout') quarantines.inc({ queue, type, reason: dead.kind });
    if (event.ended === 'timeout') timeouts.inc({ queue, type });
  };
  const onExited = (event: WorkerExitedEvent): void => {
    exits.inc({ pool: poolId, cause: event.cause });
    if (RESTART_CAUSES.has(event.cause)) restarts.inc({ pool: poolId, cause: event.cause });
  };
  const onDecision = (decision: DecisionRecord): void => {
    const direction = decision.to > decision.from ? 'up' : decision.to < decision.from ? 'down' : 'hold';
    decisions.inc({ pool: poolId, direction, reason: decision.reason });
  };

  pool.on('task-finished', onFinished);
  pool.on('worker-exited', onExited);
  pool.on('decision', onDecision);
  return () => {
    pool.off('task-finished', onFinished);
    pool.off('worker-exited', onExited);
    pool.off('decision', onDecision);
  };
}
