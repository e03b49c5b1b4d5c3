import os from 'node:os';
import type { Broker } from '../../ports/broker.js';
import type { Store } from '../../ports/store.js';

/**
 * A pool on this machine whose process is gone (kill -9, OOM) cannot renew
 * its leases, but waiting for them to expire would stall its tasks. Its pid
 * says at once that it is dead: take its tasks back now.
 */
export async function reapDeadLocalPools(broker: Broker, store: Store, selfId: string): Promise<{ pools: string[]; tasks: number }> {
  const host = os.hostname();
  const reaped: string[] = [];
  let tasks = 0;
  for (const pool of await store.listPools()) {
    if (pool.id === selfId || pool.hostname !== host || isProcessAlive(pool.pid)) continue;
    tasks += await broker.reclaim({ owner: pool.id });
    await store.removePool(pool.id);
    reaped.push(pool.id);
  }
  return { pools: reaped, tasks };
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
