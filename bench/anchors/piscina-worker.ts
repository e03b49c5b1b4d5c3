/** Piscina's task: the very burnCpu the gaffer "burn" task runs, so both do the same work. */
import { burnCpu } from '../../test/fixtures/tasks.js';

export default function burn({ iterations }: { iterations: number }): number {
  return burnCpu(iterations);
}
