/** BullMQ's sandboxed processor: the very burnCpu the gaffer "burn" task runs, in a child process that BullMQ forks. */
import type { SandboxedJob } from 'bullmq';
import { burnCpu } from '../../test/fixtures/tasks.js';

export default async function burn(job: SandboxedJob<{ iterations: number }>): Promise<number> {
  return burnCpu(job.data.iterations);
}
