import { z } from 'zod';
import { formatIssues } from './validation-issues.js';
import { ConfigError } from './errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MAX_RESULT_BYTES, DEFAULT_QUEUE, queueNameSchema } from './envelope.js';
import type { BackoffSettings } from './backoff.js';
import type { TaskTypeSettings } from './task-type.js';

/** Settings of a task type after the pool's defaults filled what it left out. */
export interface ResolvedTaskSettings {
  timeLimitMs: number;
  maxAttempts: number;
  maxCrashes: number;
  backoff: BackoffSettings;
}

const ms = z.number().int().min(0);
const positive = z.number().int().positive();

const poolSettingsSchema = z
  .object({
    queue: queueNameSchema.default(DEFAULT_QUEUE),
    min: z.number().int().min(0).default(0),
    /** Defaults to the machine's cores: CPU-bound work gains nothing from more. */
    max: positive.optional(),
    targetWaitMs: positive.default(1000),
    scaleDownWindowMs: ms.default(10_000),
    /** 0: never recycle a worker for the number of tasks it ran. */
    maxTasksPerWorker: z.number().int().min(0).default(0),
    /**
     * How much work each busy worker is sent ahead when tasks are short (under
     * 100 ms on average): enough tasks to cover this much of their mean run
     * time, at least one, at most 256 and no more than fit in 4 MiB of
     * payload (see lookaheadDepth). 0: no lookahead, a task is sent only to
     * an idle worker. 15 ms: against 5, tasks of 2 ms left a core idle
     * 0.42 ms a task instead of 0.49 (median of 9 bench runs each), and
     * tasks of 15 ms or more still get one.
     */
    lookaheadMs: ms.default(15),
    /** 0: workers never leave on their own for being idle. */
    idleExitMs: ms.default(0),
    /** 0: no memory limit. */
    memoryLimitMb: z.number().min(0).default(0),
    taskDefaults: z
      .object({
        timeLimitMs: positive.default(10 * 60_000),
        maxAttempts: positive.default(3),
        maxCrashes: positive.default(3),
        backoff: z.object({ baseMs: positive.default(1000), maxMs: positive.default(60_000) }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
    restartBackoff: z.object({ baseMs: positive.default(500), maxMs: positive.default(30_000) }).strict().prefault({}),
    /** A worker that stays up this long ends a crash streak. */
    stableUptimeMs: positive.default(30_000),
    /** How long a cancelled handler may take to stop before its worker is killed. */
    cancelGraceMs: positive.default(100),
    /** On shutdown, how long running tasks may take to finish before they go back to the queue. */
    drainGraceMs: ms.default(30_000),
    /** A pool that stops renewing its leases for this long is presumed dead; others reclaim its tasks. */
    leaseMs: z.number().int().min(500).default(30_000),
    maxPayloadBytes: positive.default(DEFAULT_MAX_PAYLOAD_BYTES),
    /** A handler whose result is larger than this, as JSON, fails with ResultTooLarge. */
    maxResultBytes: positive.default(DEFAULT_MAX_RESULT_BYTES),
    /** How often the pool observes, decides and checks its workers. */
    tickMs: z.number().int().min(10).max(5000).default(100),
  })
  .strict();

export type PoolSettingsInput = z.input<typeof poolSettingsSchema>;
export type PoolSettings = Omit<z.output<typeof poolSettingsSchema>, 'max'> & { max: number; cores: number };

/** `names` names the settings in errors as their reader knows them (gaffer up's flags); their own names otherwise. */
export function parsePoolSettings(input: PoolSettingsInput, cores: number, names: Readonly<Record<string, string>> = {}): PoolSettings {
  const parsed = poolSettingsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid pool settings: ${formatIssues(parsed.error, names)}`);
  const settings = parsed.data;
  const max = settings.max ?? Math.max(1, cores);
  if (settings.min > max) {
    throw new ConfigError(`min (${settings.min}) is above max (${max}); lower --min or raise --max`);
  }
  if (settings.taskDefaults.backoff.baseMs > settings.taskDefaults.backoff.maxMs) {
    throw new ConfigError('the retry backoff base is above its max; lower the base or raise the max');
  }
  return { ...settings, max, cores };
}

export function resolveTaskSettings(own: TaskTypeSettings, defaults: ResolvedTaskSettings): ResolvedTaskSettings {
  return {
    timeLimitMs: own.timeLimitMs ?? defaults.timeLimitMs,
    maxAttempts: own.maxAttempts ?? defaults.maxAttempts,
    maxCrashes: own.maxCrashes ?? defaults.maxCrashes,
    backoff: {
      baseMs: own.backoff?.baseMs ?? defaults.backoff.baseMs,
      maxMs: own.backoff?.maxMs ?? defaults.backoff.maxMs,
    },
  };
}
