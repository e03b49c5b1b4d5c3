import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { TaskRecord } from '../../src/core/task-record.js';
import type { DecisionRecord, PoolSnapshot, Store, TaskUpdate } from '../../src/ports/store.js';
import { sleep, waitFor } from '../support/temp-data.js';

/**
 * The promises every store adapter keeps (see the comments of
 * src/ports/store.ts), case by case, through the Store interface only.
 *
 * `open` must return a store of its own, with nothing in it: prune counts
 * are asserted exactly. Ids are still unique to each test, so a store on a
 * long-lived server does not see the leftovers of an earlier run.
 */
export interface OpenedStore {
  store: Store;
  close(): Promise<void>;
}

/** How long to wait for a callback that must not come. */
const QUIET_MS = 100;

/** Names and records for one test against one store. */
class Scope {
  private readonly run = randomUUID().slice(0, 8);
  private count = 0;

  constructor(readonly store: Store) {}

  name(label: string): string {
    return `conformance-${label}-${this.run}`;
  }

  /** A queued task record with a fresh id. */
  record(overrides: Partial<TaskRecord> = {}): TaskRecord {
    const n = ++this.count;
    return {
      id: this.name(`t${n}`),
      queue: 'conformance',
      type: 'conformance.echo',
      state: 'queued',
      attempts: 0,
      deaths: 0,
      enqueuedAt: Date.now(),
      ...overrides,
    };
  }

  /** The update that moves `record` to `state`, with more fields. */
  update(record: TaskRecord, state: TaskRecord['state'], fields: Partial<TaskRecord> = {}): TaskUpdate {
    return { id: record.id, queue: record.queue, type: record.type, state, ...fields };
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const records = await this.store.getTasks([id]);
    assert.ok(records.length <= 1, `one record per id, got ${records.length}`);
    return records[0];
  }

  /** The ids among `ids` that still have a record. */
  async kept(ids: readonly string[]): Promise<string[]> {
    return (await this.store.getTasks(ids)).map((record) => record.id).sort();
  }

  pool(overrides: Partial<PoolSnapshot> = {}): PoolSnapshot {
    const now = Date.now();
    return {
      id: this.name(`pool${++this.count}`),
      hostname: 'conformance-host',
      pid: 4242,
      queue: 'conformance',
      startedAt: now - 5000,
      heartbeatAt: now,
      ttlMs: 30_000,
      min: 0,
      max: 4,
      desired: 2,
      draining: false,
      paused: false,
      stats: {
        windowMs: 60_000,
        outcomes: { succeeded: 12, dead: 1 },
        completedPerSecond: 0.2,
        arrivalsPerSecond: 0.25,
        waitMs: { p50: 12, p95: 80 },
        runMs: { p50: 150, p95: 900 },
      },
      workers: [
        { pid: 5001, state: 'busy', taskId: 'task-1', taskType: 'conformance.echo', taskStartedAt: now - 100, tasksDone: 7, startedAt: now - 4000, rssBytes: 52_428_800 },
        { pid: 5002, state: 'idle', tasksDone: 0, startedAt: now - 1000 },
      ],
      ...overrides,
    };
  }

  decision(poolId: string, at: number, to: number): DecisionRecord {
    return {
      poolId,
      at,
      from: to - 1,
      to,
      want: to,
      reason: 'backlog',
      detail: `${to} workers for the backlog`,
      observation: { now: at, ready: to * 3, running: to - 1, workers: to - 1, arrivalRate: 2.5, serviceMs: null },
    };
  }
}

function byId<T extends { id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Collects watchFinal callbacks. */
function watcher() {
  const seen: TaskRecord[] = [];
  return { seen, listener: (record: TaskRecord) => void seen.push(record), states: () => new Map(seen.map((record) => [record.id, record.state])) };
}

export function storeConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`store conformance: ${name}`, () => {
    /** A test on a fresh store, closed whatever happens. */
    const check = (title: string, body: (scope: Scope) => Promise<void>) =>
      test(title, async () => {
        const opened = await open();
        try {
          await body(new Scope(opened.store));
        } finally {
          await opened.close();
        }
      });

    describe('task records', () => {
      check('recordEnqueued creates records that getTasks returns as they were given', async (s) => {
        const plain = s.record();
        const keyed = s.record({ key: 'customer-7', group: 'batch-1' });
        await s.store.recordEnqueued([plain, keyed]);
        assert.deepEqual(await s.get(plain.id), plain);
        assert.deepEqual(await s.get(keyed.id), keyed);
      });

      check('recordEnqueued never overwrites an existing record', async (s) => {
        const record = s.record();
        await s.store.recordEnqueued([record]);
        await s.store.updateTasks([s.update(record, 'running', { startedAt: Date.now(), poolId: 'pool-1' })]);
        const running = await s.get(record.id);
        assert.equal(running?.state, 'running');

        await s.store.recordEnqueued([{ ...record, type: 'conformance.other', enqueuedAt: record.enqueuedAt + 1 }, s.record()]);
        assert.deepEqual(await s.get(record.id), running);
      });

      check('updateTasks applies partial updates: fields left out keep their values', async (s) => {
        const record = s.record({ key: 'k', group: 'g' });
        await s.store.recordEnqueued([record]);

        const startedAt = Date.now();
        await s.store.updateTasks([s.update(record, 'running', { startedAt, poolId: 'pool-1', workerPid: 101 })]);
        const running: TaskRecord = { ...record, state: 'running', startedAt, poolId: 'pool-1', workerPid: 101 };
        assert.deepEqual(await s.get(record.id), running);

        const error = { name: 'Error', message: 'boom', stack: 'Error: boom\n    at x', code: 'E_BOOM' };
        await s.store.updateTasks([s.update(record, 'retrying', { attempts: 1, error })]);
        const retrying: TaskRecord = { ...running, state: 'retrying', attempts: 1, error };
        assert.deepEqual(await s.get(record.id), retrying);

        await s.store.updateTasks([s.update(record, 'running', { workerPid: 102, deaths: 1 })]);
        const finishedAt = startedAt + 25;
        await s.store.updateTasks([s.update(record, 'succeeded', { result: { answer: 42, list: ['a', null] }, finishedAt })]);
        assert.deepEqual(await s.get(record.id), {
          ...retrying,
          state: 'succeeded',
          workerPid: 102,
          deaths: 1,
          result: { answer: 42, list: ['a', null] },
          finishedAt,
        });
      });

      check('updateTasks keeps falsy results: 0, false, null and the empty string', async (s) => {
        const results = [0, false, null, ''] as const;
        const records = results.map(() => s.record());
        await s.store.recordEnqueued(records);
        await s.store.updateTasks(records.map((record, index) => s.update(record, 'succeeded', { result: results[index], finishedAt: Date.now() })));
        for (const [index, record] of records.entries()) {
          const stored = await s.get(record.id);
          assert.ok(stored && 'result' in stored, `result ${JSON.stringify(results[index])} is kept`);
          assert.equal(stored.result, results[index]);
        }
      });

      check('updateTasks creates a record that is missing', async (s) => {
        const record = s.record();
        const startedAt = Date.now();
        await s.store.updateTasks([s.update(record, 'running', { startedAt, poolId: 'pool-1', key: 'k' })]);
        const created = await s.get(record.id);
        assert.ok(created, 'the update created the record');
        assert.deepEqual(
          { ...created, enqueuedAt: 0 },
          { id: record.id, queue: record.queue, type: record.type, key: 'k', state: 'running', attempts: 0, deaths: 0, startedAt, poolId: 'pool-1', enqueuedAt: 0 },
        );
        assert.equal(typeof created.enqueuedAt, 'number');
      });

      check('getTasks returns the records of several ids and skips unknown ones', async (s) => {
        const records = [s.record(), s.record({ state: 'running' }), s.record()];
        await s.store.recordEnqueued(records);
        const unknown = s.name('unknown');
        assert.deepEqual(byId(await s.store.getTasks([records[2]!.id, unknown, records[0]!.id])), byId([records[2]!, records[0]!]));
        assert.deepEqual(byId(await s.store.getTasks(records.map((record) => record.id))), byId(records));
        assert.deepEqual(await s.store.getTasks([unknown]), []);
        assert.deepEqual(await s.store.getTasks([]), []);
      });

      check('replaceTasks resets a record and creates one that is missing', async (s) => {
        const record = s.record({ key: 'k' });
        await s.store.recordEnqueued([record]);
        const reason = { kind: 'failed' as const, message: 'boom', attempts: 3 };
        await s.store.updateTasks([
          s.update(record, 'dead', { attempts: 3, deaths: 1, startedAt: 1, finishedAt: 2, error: { message: 'boom' }, deadReason: reason, poolId: 'p', workerPid: 7 }),
        ]);
        assert.equal((await s.get(record.id))?.state, 'dead');

        const fresh: TaskRecord = { id: record.id, queue: record.queue, type: record.type, key: 'k', state: 'queued', attempts: 0, deaths: 0, enqueuedAt: Date.now() };
        const missing = s.record();
        await s.store.replaceTasks([fresh, missing]);
        assert.deepEqual(await s.get(record.id), fresh, 'nothing of the old record is left');
        assert.deepEqual(await s.get(missing.id), missing);
      });
    });

    describe('watchFinal', () => {
      check('calls back at once for records that are already final', async (s) => {
        const [succeeded, dead, queued] = [s.record(), s.record(), s.record()];
        await s.store.recordEnqueued([succeeded, dead, queued]);
        const reason = { kind: 'bad_input' as const, code: 'not_json' as const, message: 'payload is not JSON' };
        await s.store.updateTasks([
          s.update(succeeded, 'succeeded', { result: 'ok', finishedAt: Date.now() }),
          s.update(dead, 'dead', { deadReason: reason, finishedAt: Date.now() }),
        ]);

        const { seen, listener, states } = watcher();
        const stop = s.store.watchFinal([succeeded.id, dead.id, queued.id], listener);
        try {
          await waitFor(() => seen.length === 2, 'callbacks for the two final records', 5000);
          assert.deepEqual(states(), new Map([[succeeded.id, 'succeeded'], [dead.id, 'dead']]));
          const byRecord = new Map(seen.map((record) => [record.id, record]));
          assert.equal(byRecord.get(succeeded.id)?.result, 'ok', 'the callback gets the whole record');
          assert.deepEqual(byRecord.get(dead.id)?.deadReason, reason);
        } finally {
          stop();
        }
      });

      check('calls back once per id as records become final: succeeded, dead, cancelled', async (s) => {
        const [succeeded, dead, cancelled, pending] = [s.record(), s.record(), s.record(), s.record()];
        const created = s.record();
        await s.store.recordEnqueued([succeeded, dead, cancelled, pending]);

        const { seen, listener, states } = watcher();
        const stop = s.store.watchFinal([succeeded.id, dead.id, cancelled.id, pending.id, created.id, succeeded.id], listener);
        try {
          await sleep(QUIET_MS);
          await s.store.updateTasks([s.update(succeeded, 'running'), s.update(pending, 'retrying', { attempts: 1 })]);
          await sleep(QUIET_MS);
          assert.equal(seen.length, 0, 'no call while nothing is final');

          await s.store.updateTasks([s.update(succeeded, 'succeeded', { result: 1, finishedAt: Date.now() })]);
          await waitFor(() => seen.length === 1, 'a callback for the succeeded record', 5000);
          await s.store.updateTasks([
            s.update(dead, 'dead', { deadReason: { kind: 'failed', message: 'boom', attempts: 1 }, finishedAt: Date.now() }),
            s.update(cancelled, 'cancelled', { finishedAt: Date.now() }),
          ]);
          await s.store.updateTasks([s.update(created, 'cancelled', { finishedAt: Date.now() })]);
          await waitFor(() => seen.length >= 4, 'callbacks for the dead, cancelled and created records', 5000);
          await s.store.updateTasks([s.update(succeeded, 'succeeded', { result: 2, finishedAt: Date.now() })]);
          await sleep(QUIET_MS);

          assert.equal(seen.length, 4, `one call per id: ${seen.map((record) => record.id).join(', ')}`);
          assert.deepEqual(
            states(),
            new Map([
              [succeeded.id, 'succeeded'],
              [dead.id, 'dead'],
              [cancelled.id, 'cancelled'],
              [created.id, 'cancelled'],
            ]),
          );
          assert.equal(seen[0]!.result, 1);
        } finally {
          stop();
        }
      });

      check('does not call back after stop', async (s) => {
        const [early, late] = [s.record(), s.record()];
        await s.store.recordEnqueued([early, late]);
        const { seen, listener } = watcher();
        const stop = s.store.watchFinal([early.id, late.id], listener);
        await s.store.updateTasks([s.update(early, 'succeeded', { finishedAt: Date.now() })]);
        await waitFor(() => seen.length === 1, 'a callback for the first record', 5000);
        stop();
        await s.store.updateTasks([s.update(late, 'succeeded', { finishedAt: Date.now() })]);
        await sleep(QUIET_MS);
        assert.deepEqual(
          seen.map((record) => record.id),
          [early.id],
        );

        const stoppedAtOnce = watcher();
        s.store.watchFinal([early.id, late.id], stoppedAtOnce.listener)();
        await sleep(QUIET_MS);
        assert.deepEqual(stoppedAtOnce.seen, [], 'stopped before its first check, it never calls');
      });
    });

    describe('run-time controls', () => {
      check('queues are paused and resumed', async (s) => {
        const [first, second] = [s.name('q1'), s.name('q2')];
        assert.deepEqual(await s.store.pausedQueues(), []);
        await s.store.setQueuePaused(first, true);
        await s.store.setQueuePaused(second, true);
        await s.store.setQueuePaused(second, true);
        assert.deepEqual(await s.store.pausedQueues(), [first, second].sort());
        await s.store.setQueuePaused(first, false);
        await s.store.setQueuePaused(s.name('never-paused'), false);
        assert.deepEqual(await s.store.pausedQueues(), [second]);
      });

      check("a pool's limits are set, replaced and cleared", async (s) => {
        const pool = s.name('pool');
        assert.equal(await s.store.poolLimits(pool), undefined);
        await s.store.setPoolLimits(pool, { min: 1, max: 3 });
        assert.deepEqual(await s.store.poolLimits(pool), { min: 1, max: 3 });
        await s.store.setPoolLimits(pool, { min: 0, max: 8 });
        assert.deepEqual(await s.store.poolLimits(pool), { min: 0, max: 8 });
        assert.equal(await s.store.poolLimits(s.name('other')), undefined);
        await s.store.setPoolLimits(pool, null);
        assert.equal(await s.store.poolLimits(pool), undefined);
      });
    });

    describe('pools', () => {
      check('reportPool, listPools and removePool', async (s) => {
        const [first, second] = [s.pool(), s.pool({ draining: true, workers: [] })];
        await s.store.reportPool(first);
        await s.store.reportPool(second);
        assert.deepEqual(byId(await s.store.listPools()), byId([first, second]));

        const updated = { ...first, heartbeatAt: Date.now(), desired: 3, workers: first.workers.slice(1) };
        await s.store.reportPool(updated);
        assert.deepEqual(byId(await s.store.listPools()), byId([updated, second]), 'a report replaces the last one');

        await s.store.removePool(first.id);
        assert.deepEqual(await s.store.listPools(), [second]);
        await s.store.removePool(s.name('unknown'));
        assert.deepEqual(await s.store.listPools(), [second]);
      });

      check('a pool whose heartbeat is older than its ttl is not listed', async (s) => {
        const now = Date.now();
        const live = s.pool({ heartbeatAt: now, ttlMs: 30_000 });
        const gone = s.pool({ heartbeatAt: now - 60_000, ttlMs: 30_000 });
        const tight = s.pool({ heartbeatAt: now - 1000, ttlMs: 10 });
        for (const pool of [live, gone, tight]) await s.store.reportPool(pool);
        assert.deepEqual(await s.store.listPools(), [live]);

        const back = { ...gone, heartbeatAt: Date.now() };
        await s.store.reportPool(back);
        assert.deepEqual(byId(await s.store.listPools()), byId([live, back]), 'a pool that reports again is listed again');
      });
    });

    describe('decisions', () => {
      check('listDecisions returns the newest first, up to the limit, for all pools or one', async (s) => {
        const [a, b] = [s.name('pool-a'), s.name('pool-b')];
        const t = Date.now();
        const decisions = [s.decision(a, t, 1), s.decision(b, t + 1, 1), s.decision(a, t + 2, 2), s.decision(a, t + 3, 3), s.decision(b, t + 4, 2)];
        for (const decision of decisions) await s.store.recordDecision(decision);
        const newestFirst = [...decisions].reverse();

        assert.deepEqual(await s.store.listDecisions({ limit: 10 }), newestFirst);
        assert.deepEqual(await s.store.listDecisions({ limit: 2 }), newestFirst.slice(0, 2));
        assert.deepEqual(
          await s.store.listDecisions({ limit: 10, poolId: a }),
          newestFirst.filter((decision) => decision.poolId === a),
        );
        assert.deepEqual(await s.store.listDecisions({ limit: 1, poolId: b }), [decisions[4]]);
        assert.deepEqual(await s.store.listDecisions({ limit: 10, poolId: s.name('unknown') }), []);
      });
    });

    describe('prune', () => {
      check('prune by age forgets only final records older than the retention', async (s) => {
        const now = Date.now();
        const old = now - 60_000;
        const oldSucceeded = s.record({ state: 'succeeded', enqueuedAt: old, finishedAt: old });
        const oldDead = s.record({ state: 'dead', enqueuedAt: old, finishedAt: old, deadReason: { kind: 'failed', message: 'x', attempts: 1 } });
        const oldCancelled = s.record({ state: 'cancelled', enqueuedAt: old, finishedAt: old });
        const recent = s.record({ state: 'succeeded', enqueuedAt: now, finishedAt: now });
        const oldQueued = s.record({ enqueuedAt: old });
        const oldRunning = s.record({ state: 'running', enqueuedAt: old, startedAt: old });
        const oldRetrying = s.record({ state: 'retrying', enqueuedAt: old, startedAt: old, attempts: 1 });
        const all = [oldSucceeded, oldDead, oldCancelled, recent, oldQueued, oldRunning, oldRetrying];
        await s.store.recordEnqueued(all);

        assert.equal(await s.store.prune({ now, maxAgeMs: 30_000, maxRecords: 1000 }), 3);
        assert.deepEqual(await s.kept(all.map((record) => record.id)), [recent, oldQueued, oldRunning, oldRetrying].map((record) => record.id).sort());
      });

      check('prune by count keeps the newest final records and every unfinished one', async (s) => {
        const t = Date.now() - 10_000;
        const finals = [1, 2, 3, 4].map((n) => s.record({ state: 'succeeded', enqueuedAt: t, finishedAt: t + n }));
        const unfinished = [s.record({ enqueuedAt: t - 1000 }), s.record({ state: 'running', enqueuedAt: t - 1000 })];
        await s.store.recordEnqueued([...finals, ...unfinished]);

        assert.equal(await s.store.prune({ now: Date.now(), maxAgeMs: 3_600_000, maxRecords: 2 }), 2);
        const ids = [...finals, ...unfinished].map((record) => record.id);
        assert.deepEqual(await s.kept(ids), [finals[2]!, finals[3]!, ...unfinished].map((record) => record.id).sort());
        assert.equal(await s.store.prune({ now: Date.now(), maxAgeMs: 3_600_000, maxRecords: 2 }), 0, 'nothing more to do');
      });

      check('prune keeps a record that started over after it was final', async (s) => {
        const old = Date.now() - 60_000;
        const record = s.record({ enqueuedAt: old });
        await s.store.recordEnqueued([record]);
        await s.store.updateTasks([s.update(record, 'dead', { finishedAt: old, deadReason: { kind: 'failed', message: 'x', attempts: 1 } })]);
        const restarted: TaskRecord = { ...record, enqueuedAt: Date.now() };
        await s.store.replaceTasks([restarted]);

        assert.equal(await s.store.prune({ now: Date.now(), maxAgeMs: 1000, maxRecords: 0 }), 0);
        assert.deepEqual(await s.get(record.id), restarted);
      });
    });
  });
}
