import { spawn } from 'node:child_process';
import { readRssBytes, waitForExit } from '../harness/processes.js';
import { sleep } from '../harness/time.js';

/** The anchor for memory: the resident size of a bare Node process that only idles. */
export async function bareNodeRssBytes(settleMs: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  try {
    await sleep(settleMs);
    return readRssBytes(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await waitForExit(child, 'the idle bare node process');
  }
}
