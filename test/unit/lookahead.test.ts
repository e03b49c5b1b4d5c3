import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../../src/ports/broker.js';
import type { WorkerChannel } from '../../src/ports/worker-driver.js';
import { lastOfLongestLookahead, LOOKAHEAD_BELOW_MS, LOOKAHEAD_MAX_PAYLOAD, lookaheadDepth, lookaheadRooms, MAX_LOOKAHEAD, shareOut } from '../../src/runtime/pool/lookahead.js';
import { WorkerHandle, type Assignment } from '../../src/runtime/pool/worker-handle.js';

describe('lookaheadDepth', () => {
  const cases: Array<{ meanMs: number | null; lookaheadMs: number; depth: number; why: string }> = [
    { meanMs: null, lookaheadMs: 5, depth: 0, why: 'no mean yet: nothing is sent ahead' },
    { meanMs: LOOKAHEAD_BELOW_MS, lookaheadMs: 5, depth: 0, why: 'long tasks never wait behind one another' },
    { meanMs: 500, lookaheadMs: 5_000, depth: 0, why: 'long tasks, whatever the budget' },
    { meanMs: 20, lookaheadMs: 5, depth: 1, why: 'short tasks get at least one' },
    { meanMs: 2, lookaheadMs: 5, depth: 2, why: 'enough to cover the budget' },
    { meanMs: 0.5, lookaheadMs: 5, depth: 10, why: 'shorter tasks, more of them' },
    { meanMs: 0.01, lookaheadMs: 5, depth: MAX_LOOKAHEAD, why: 'capped' },
    { meanMs: 0, lookaheadMs: 5, depth: MAX_LOOKAHEAD, why: 'tasks too short to measure: capped' },
    { meanMs: 2, lookaheadMs: 0, depth: 0, why: 'lookahead turned off' },
  ];
  for (const { meanMs, lookaheadMs, depth, why } of cases) {
    test(`mean ${meanMs} ms, budget ${lookaheadMs} ms → ${depth} (${why})`, () => assert.equal(lookaheadDepth(meanMs, lookaheadMs), depth));
  }

  const bySize: Array<{ meanPayload: number | null; depth: number; why: string }> = [
    { meanPayload: null, depth: MAX_LOOKAHEAD, why: 'no payload seen yet: time alone decides' },
    { meanPayload: 200, depth: MAX_LOOKAHEAD, why: 'small payloads: time alone decides' },
    { meanPayload: LOOKAHEAD_MAX_PAYLOAD / 16, depth: 16, why: 'big payloads: as many as fit the payload bound' },
    { meanPayload: 1024 * 1024, depth: 4, why: 'payloads at the default size limit' },
    { meanPayload: LOOKAHEAD_MAX_PAYLOAD * 2, depth: 1, why: 'still at least one' },
  ];
  for (const { meanPayload, depth, why } of bySize) {
    test(`tiny tasks with a mean payload of ${meanPayload} characters → ${depth} (${why})`, () => assert.equal(lookaheadDepth(0.01, 15, meanPayload), depth));
  }
});

/** A worker as the manager sees it, with no process behind it: these functions only read its state. */
function worker(pid: number, state: WorkerHandle['state'], waiting: number, options: { tasksDone?: number; cancelling?: boolean; withdrawing?: number } = {}): WorkerHandle {
  const channel: WorkerChannel = { pid, send: () => {}, onMessage: () => {}, onExit: () => {}, kill: () => {}, stderrTail: () => '' };
  const handle = new WorkerHandle(channel, 0);
  handle.state = state;
  handle.tasksDone = options.tasksDone ?? 0;
  const assignment = (id: string, withdrawing = false): Assignment => ({
    delivery: delivery(id),
    settings: { timeLimitMs: 1000, maxAttempts: 3, maxCrashes: 3, backoff: { baseMs: 100, maxMs: 1000 } },
    startedAt: 0,
    timeLimitTimer: undefined,
    cancelTimer: undefined,
    cancelling: false,
    withdrawing,
  });
  if (state === 'busy') handle.assignment = { ...assignment(`${pid}-running`), cancelling: options.cancelling ?? false };
  handle.waiting = Array.from({ length: waiting }, (_, index) => assignment(`${pid}-${index}`, index >= waiting - (options.withdrawing ?? 0)));
  return handle;
}

function delivery(id: string): Delivery {
  return { tag: id, envelope: { id, queue: 'q', type: 'noop', payload: 'null', enqueuedAt: 0 }, attempts: 0, deaths: 0, cancelRequested: false };
}

describe('lookaheadRooms', () => {
  test('busy workers whose lookahead is half used or less get room up to the depth; idle, cancelling and fuller ones none', () => {
    const workers = [worker(1, 'busy', 0), worker(2, 'busy', 2), worker(3, 'busy', 3), worker(4, 'idle', 0), worker(5, 'busy', 0, { cancelling: true })];
    assert.deepEqual(
      lookaheadRooms(workers, 4, 0).map(({ handle, room }) => [handle.pid, room]),
      [
        [1, 4],
        [2, 2],
      ],
    );
  });

  test('never more than a worker runs before it leaves, and nothing with lookahead off', () => {
    assert.deepEqual(lookaheadRooms([worker(1, 'busy', 0, { tasksDone: 7 })], 4, 10).map(({ room }) => room), [2], '10 - 7 done - 1 running');
    assert.deepEqual(lookaheadRooms([worker(1, 'busy', 0, { tasksDone: 9 })], 4, 10), [], 'its running task is its last');
    assert.deepEqual(lookaheadRooms([worker(1, 'busy', 0)], 0, 0), []);
  });
});

describe('shareOut', () => {
  test('deals the deliveries round the workers, within the room of each, and gives back what does not fit', () => {
    const rooms = [
      { handle: worker(1, 'busy', 0), room: 1 },
      { handle: worker(2, 'busy', 0), room: 3 },
    ];
    const { shares, extra } = shareOut(rooms, ['a', 'b', 'c', 'd', 'e'].map(delivery));
    assert.deepEqual(
      shares.map((share) => share.map((d) => d.envelope.id)),
      [['a'], ['b', 'c', 'd']],
    );
    assert.deepEqual(
      extra.map((d) => d.envelope.id),
      ['e'],
    );
  });

  test('alternates while both have room, so that neither worker waits for the share of the other', () => {
    const rooms = [
      { handle: worker(1, 'busy', 0), room: 3 },
      { handle: worker(2, 'busy', 0), room: 3 },
    ];
    const { shares } = shareOut(rooms, ['a', 'b', 'c', 'd'].map(delivery));
    assert.deepEqual(
      shares.map((share) => share.map((d) => d.envelope.id)),
      [
        ['a', 'c'],
        ['b', 'd'],
      ],
    );
  });
});

describe('lastOfLongestLookahead', () => {
  test('the last task not already asked back, of the worker with the most such tasks', () => {
    const found = lastOfLongestLookahead([worker(1, 'busy', 2), worker(2, 'busy', 4, { withdrawing: 1 }), worker(3, 'busy', 3)]);
    assert.equal(found?.handle.pid, 2, 'ties go to the first: 3 waiting each once the withdrawn one is left out');
    assert.equal(found?.last.delivery.envelope.id, '2-2');
  });

  test('nothing when no lookahead holds a task', () => {
    assert.equal(lastOfLongestLookahead([worker(1, 'busy', 0), worker(2, 'idle', 0)]), undefined);
    assert.equal(lastOfLongestLookahead([]), undefined);
  });
});
