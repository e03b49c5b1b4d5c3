/**
 * A child of the bare fork pool (fork-pool-makespan.ts): runs each burnCpu
 * task it is sent, in order, and answers with its id. Nothing else: no
 * validation, no timing, no store.
 */
import { burnCpu } from '../../test/fixtures/tasks.js';

const queue: Array<{ id: string; iterations: number }> = [];
let running = false;

function runNext(): void {
  const task = queue.shift();
  running = task !== undefined;
  if (!task) return;
  burnCpu(task.iterations);
  process.send!({ id: task.id });
  // The next task starts on the next turn, after the messages that came meanwhile, as a gaffer worker's does.
  setImmediate(runNext);
}

process.on('message', (task: { id: string; iterations: number }) => {
  queue.push(task);
  if (!running) runNext();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
