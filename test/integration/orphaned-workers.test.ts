import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parentDeathLauncher } from '../../src/adapters/drivers/parent-death-signal.js';
import { isAlive, waitForExit } from '../support/pool-harness.js';

const LONE_MANAGER = fileURLToPath(new URL('../fixtures/lone-manager.js', import.meta.url));

/**
 * kill -9 of a manager whose worker is 300 ms into a synchronous 30 s spin:
 * the worker must be gone within a couple of seconds, long before its handler
 * could return and notice the closed channel. Its task dies with it, never
 * reported (the manager that held it is gone; see manager-crash.test.ts for
 * how the next pool runs it again).
 */
async function orphanDiesMidHandler(mechanism: 'kernel' | 'watchdog'): Promise<void> {
  const manager = spawn(process.execPath, [LONE_MANAGER, mechanism], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: manager.stdout }), 'line')) as [string];
  const { pid, killsOrphans } = JSON.parse(line) as { pid: number; killsOrphans: boolean };
  try {
    assert.equal(killsOrphans, mechanism === 'kernel', 'the driver used the mechanism asked for');
    assert.equal(isAlive(pid), true, 'the worker is spinning');
    manager.kill('SIGKILL');
    await once(manager, 'exit');
    const killedAt = performance.now();
    await waitForExit(pid, `the orphaned worker ${pid} to exit (${mechanism})`, 2500);
    assert.ok(performance.now() - killedAt < 2500);
  } finally {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (manager.exitCode === null && manager.signalCode === null) manager.kill('SIGKILL');
  }
}

describe('a worker whose manager is killed in the middle of a synchronous handler', () => {
  const kernel = parentDeathLauncher() !== null;
  test('dies by the kernel (setpriv --pdeathsig), with no watchdog thread', { skip: kernel ? false : 'no setpriv with --pdeathsig here (Linux util-linux >= 2.33): the watchdog thread is used' }, () =>
    orphanDiesMidHandler('kernel'));

  test('dies by its watchdog thread where the kernel cannot do it', () => orphanDiesMidHandler('watchdog'));
});
