import { spawn } from 'node:child_process';
import { expectExited, waitForExit } from '../harness/processes.js';

/**
 * The anchor for burst-to-busy: how long `count` bare Node processes take to
 * start and say "up" over IPC. No process pool can bring workers up faster,
 * so the ratio shows what gaffer adds on top (loading the task module,
 * noticing the burst, deciding, dispatching).
 */
export async function spawnFloorMs(count: number): Promise<number> {
  const start = performance.now();
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', "process.send('up', () => process.disconnect())"], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  try {
    const upAt = await Promise.all(
      children.map(
        (child) =>
          new Promise<number>((resolve, reject) => {
            child.once('message', () => resolve(performance.now()));
            child.once('error', reject);
            child.once('exit', (code) => reject(new Error(`a bare node child exited (${code}) before saying up`)));
          }),
      ),
    );
    return Math.max(...upAt) - start;
  } finally {
    await Promise.allSettled(children.map((child) => waitForExit(child, 'a bare node child', 5000)));
    await expectExited(children.map((child) => child.pid!).filter(Boolean), 'the spawn-floor anchor');
  }
}
