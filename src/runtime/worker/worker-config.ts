import { z } from 'zod';
import { WORKER_CONFIG_ENV, type WorkerConfig } from '../ipc/messages.js';

const workerConfigSchema = z.object({
  tasksModule: z.string().min(1),
  maxTasks: z.number().int().min(0),
  idleExitMs: z.number().int().min(0),
  memoryLimitMb: z.number().min(0),
  maxPayloadBytes: z.number().int().positive(),
  maxResultBytes: z.number().int().positive(),
  watchParent: z.boolean(),
});

export function readWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const raw = env[WORKER_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_CONFIG_ENV} is not set: a gaffer worker is started by a pool manager (gaffer up), not by hand`);
  return workerConfigSchema.parse(JSON.parse(raw));
}
