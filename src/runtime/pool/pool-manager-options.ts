import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { PoolSettingsInput } from '../../core/pool-settings.js';
import { formatIssues } from '../../core/validation-issues.js';
import type { Broker } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { Settlement } from '../../ports/settlement.js';
import type { Store } from '../../ports/store.js';
import type { WorkerDriver } from '../../ports/worker-driver.js';

export interface PoolManagerOptions {
  /** Path to the task module the workers load. */
  tasks: string;
  broker: Broker;
  store: Store;
  /** The backend's record-and-ack in one step, if it has one (Backend.settlement); otherwise the store records, then the broker acks. */
  settlement?: Settlement;
  settings?: PoolSettingsInput;
  /** Cores to size for; the machine's by default. */
  cores?: number;
  retention?: { maxAgeMs: number; maxRecords: number };
  driver?: WorkerDriver;
  clock?: Clock;
  logger?: Logger;
}

const port = z.object({}).loose();

/**
 * The options checked at run time too (the settings have their own schema):
 * from JavaScript, `backend` in place of `broker` and `store`, as
 * createClient takes, would otherwise fail later with a TypeError deep in
 * the pool.
 */
const poolManagerOptionsSchema = z
  .object({
    tasks: z.string({ error: 'the path to your compiled task module, which the workers load (not the module itself)' }).min(1, 'the path to your task module'),
    broker: port,
    store: port,
    settlement: port.optional(),
    settings: z.unknown().optional(),
    cores: z.number().int().positive().optional(),
    retention: z.object({ maxAgeMs: z.number().int().positive(), maxRecords: z.number().int().positive() }).strict().optional(),
    driver: port.optional(),
    clock: port.optional(),
    logger: port.optional(),
  })
  .strict();

export function assertPoolManagerOptions(options: unknown): void {
  const parsed = poolManagerOptionsSchema.safeParse(options);
  if (parsed.success) return;
  const aboutBackend = parsed.error.issues.some((issue) => issue.path[0] === 'broker' || issue.path[0] === 'store');
  const hint = aboutBackend ? '; pass the broker and store of openBackend() (and its settlement)' : '';
  throw new ConfigError(`invalid PoolManager options: ${formatIssues(parsed.error)}${hint}`);
}
