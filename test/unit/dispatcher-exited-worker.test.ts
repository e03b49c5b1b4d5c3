import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { parsePoolSettings } from '../../src/core/pool-settings.js';
import type { Broker, ClaimRequest, Delivery } from '../../src/ports/broker.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Store } from '../../src/ports/store.js';
import type { WorkerChannel } from '../../src/ports/worker-driver.js';
import { Dispatcher } from '../../src/runtime/pool/dispatcher.js';
import { RecentMean } from '../../src/runtime/pool/load-meters.js';
import type { OutcomeRecorder } from '../../src/runtime/pool/outcome-recorder.js';
import type { TaskCatalog } from '../../src/runtime/pool/task-catalog.js';
import { WorkerHandle } from '../../src/runtime/pool/worker-handle.js';
import type { WorkerSet } from '../../src/runtime/pool/worker-set.js';

/*
 * The dispatcher picks its workers, then claims: an idle worker for an urgent
 * claim, a busy worker's lookahead for a top-up. A worker can exit while the
 * claim is on its way (a crash, a kill), and an exited handle keeps its last
 * state. A task handed to it would stay leased by the pool, its lease renewed
 * by the pool's heartbeat, and never run: CI saw such a task stuck for good.
 */

function delivery(id: string): Delivery {
  return {
    tag: id,
    envelope: { id, queue: 'default', type: 'noop', payload: 'null', enqueuedAt: Date.now() },
    attempts: 0,
    deaths: 0,
    cancelRequested: false,
  };
}

function setUp() {
  let answerClaim: (deliveries: Delivery[]) => void = () => {};
  const claims: ClaimRequest[] = [];
  const broker = {
    claim: (request: ClaimRequest) => {
      claims.push(request);
      return new Promise<Delivery[]>((resolve) => (answerClaim = resolve));
    },
  } as unknown as Broker;
  const released: string[] = [];
  const settled: string[] = [];
  const recorder = {
    release: async (deliveries: readonly Delivery[]) => void released.push(...deliveries.map((d) => d.envelope.id)),
    settle: async (d: Delivery) => (settled.push(d.envelope.id), { state: 'queued' as const }),
    cancelled: async () => ({ state: 'cancelled' as const }),
  } as unknown as OutcomeRecorder;
  const handles = new Set<WorkerHandle>();
  const workers = {
    list: () => [...handles],
    idle: () => [...handles].filter((handle) => handle.state === 'idle'),
    busyCount: () => [...handles].filter((handle) => handle.state === 'busy').length,
    retire: () => {},
  } as unknown as WorkerSet;
  const settings = parsePoolSettings({}, 2);
  const serviceTimes = new RecentMean();
  const dispatcher = new Dispatcher({
    broker,
    store: { updateTasks: async () => {} } as unknown as Store,
    workers,
    catalog: { settingsFor: () => settings.taskDefaults } as unknown as TaskCatalog,
    recorder,
    settings,
    poolId: 'pool-1',
    clock: { now: () => Date.now() },
    events: new EventEmitter(),
    serviceTimes,
    logger: silentLogger,
  });

  const sent: object[] = [];
  function worker(state: 'idle' | 'busy'): WorkerHandle {
    const channel: WorkerChannel = { pid: 4242, send: (message) => void sent.push(message), onMessage: () => {}, onExit: () => {}, kill: () => {}, stderrTail: () => '' };
    const handle = new WorkerHandle(channel, Date.now());
    handle.state = state;
    handles.add(handle);
    return handle;
  }
  /** What WorkerSet does when a worker's process ends, then the dispatcher's own handling. */
  function exit(handle: WorkerHandle): void {
    handle.exited = true;
    handles.delete(handle);
    dispatcher.onWorkerExit(handle, { code: 1, signal: null });
  }
  return { dispatcher, claims, answer: (deliveries: Delivery[]) => answerClaim(deliveries), released, settled, sent, worker, exit, serviceTimes };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a worker that was idle when the claim went out and exited before it came back gets nothing: the task goes back to the queue', async () => {
  const { dispatcher, claims, answer, released, sent, worker, exit } = setUp();
  const handle = worker('idle');
  dispatcher.pump();
  assert.equal(claims.length, 1);
  assert.equal(claims[0]!.urgent, true);
  exit(handle);
  answer([delivery('t1')]);
  await turn();
  assert.deepEqual(released, ['t1']);
  assert.deepEqual(sent, [], 'nothing sent to the exited worker');
});

test("a busy worker that exited while a top-up of its lookahead was on its way gets nothing: the top-up goes back to the queue", async () => {
  const { dispatcher, claims, answer, released, settled, sent, worker, exit, serviceTimes } = setUp();
  // Short tasks on average: busy workers get lookahead.
  for (let i = 0; i < 10; i++) serviceTimes.record(1);
  const handle = worker('idle');
  dispatcher.pump();
  answer([delivery('running')]);
  await turn();
  assert.equal(handle.state, 'busy');
  sent.length = 0;

  dispatcher.pump();
  assert.equal(claims.length, 2);
  assert.equal(claims[1]!.urgent, false, 'a top-up of the lookahead');
  exit(handle);
  answer([delivery('ahead-1'), delivery('ahead-2')]);
  await turn();
  assert.deepEqual(settled, ['running'], 'the task it ran ends as its crash');
  assert.deepEqual(released.sort(), ['ahead-1', 'ahead-2']);
  assert.deepEqual(sent, [], 'nothing sent to the exited worker');
});
