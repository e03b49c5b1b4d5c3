import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { expectExited, waitForExit } from '../harness/processes.js';

/**
 * The anchors for burst-to-busy: how long `count` Node processes, started
 * together, take to say "up" over IPC. Bare, no process pool can bring
 * workers up faster. With `module`, each imports it first, as a worker
 * imports its task module: no pool of Node processes that runs those tasks
 * can be faster than that either. The ratios show what gaffer adds on top
 * (its worker's own code, noticing the burst, deciding, dispatching).
 */
export async function spawnFloorMs(count: number, module?: string): Promise<number> {
  const start = performance.now();
  const say = "process.send('up', () => process.disconnect())";
  const args = module === undefined ? ['-e', say] : ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(module).href)}); ${say}`];
  const children = Array.from({ length: count }, () => spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  try {
    const upAt = await Promise.all(
      children.map(
        (child) =>
          new Promise<number>((resolve, reject) => {
            child.once('message', () => resolve(performance.now()));
            child.once('error', reject);
            child.once('exit', (code) => reject(new Error(`a node child exited (${code}) before saying up`)));
          }),
      ),
    );
    return Math.max(...upAt) - start;
  } finally {
    await Promise.allSettled(children.map((child) => waitForExit(child, 'a node child of the spawn floor', 5000)));
    await expectExited(children.map((child) => child.pid!).filter(Boolean), 'the spawn-floor anchor');
  }
}
