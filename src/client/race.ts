import { RaceLostError } from '../core/errors.js';
import type { TaskRecord } from '../core/task-record.js';
import type { Store } from '../ports/store.js';

export interface RaceWinner<Result> {
  id: string;
  type: string;
  result: Result;
}

/**
 * Resolves with the first member of a race group that succeeds with a result
 * (not null): null means "found nothing". Rejects with RaceLostError once
 * every member ended without one. `onWin` cancels the rest; the pool that ran
 * the winner has usually done so already.
 */
export function awaitRace<Result>(
  store: Store,
  group: string,
  ids: readonly string[],
  onWin: () => Promise<unknown>,
): Promise<RaceWinner<Result>> {
  return new Promise((resolve, reject) => {
    const ended: TaskRecord[] = [];
    let done = false;
    const stop = store.watchFinal(ids, (record) => {
      if (done) return;
      if (record.state === 'succeeded' && record.result !== null && record.result !== undefined) {
        done = true;
        stop();
        onWin().then(
          () => resolve({ id: record.id, type: record.type, result: record.result as Result }),
          () => resolve({ id: record.id, type: record.type, result: record.result as Result }),
        );
        return;
      }
      ended.push(record);
      if (ended.length === ids.length) {
        done = true;
        stop();
        reject(new RaceLostError(group, ended));
      }
    });
  });
}
