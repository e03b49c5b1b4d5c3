import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { TaskEnvelope } from '../../src/core/envelope.js';
import type { DeadReason } from '../../src/core/task-record.js';
import type { Broker, ClaimRequest, Delivery, QueueStats } from '../../src/ports/broker.js';
import { sleep, waitFor } from '../support/temp-data.js';

/**
 * The promises every broker adapter keeps (see "What every broker promises" in
 * DESIGN.md and the comments of src/ports/broker.ts), case by case, through
 * the Broker interface only.
 *
 * `open` must return a broker of its own, with nothing enqueued in it (a
 * fresh file, a fresh namespace on a server): counts such as stats, reclaim
 * and prune are asserted exactly. Queue names, task ids and owners are still
 * unique to each test, so a broker on a long-lived server does not see the
 * leftovers of an earlier run.
 */
export interface OpenedBroker {
  broker: Broker;
  close(): Promise<void>;
}

/** Long enough never to expire during a test. */
const LONG_LEASE_MS = 60_000;
/** Short enough to wait for: retry delays, delayed enqueues and short leases. */
const SHORT_MS = 100;

const TYPE = 'conformance.echo';

/** A handler's failure after `attempts` attempts. */
function failed(attempts: number): DeadReason {
  return { kind: 'failed', message: 'boom', stack: 'Error: boom\n    at handler (tasks.js:1:1)', attempts };
}

const FAILED = failed(1);

/** Names, envelopes and short-hands for one test against one broker. */
class Scope {
  private readonly run = randomUUID().slice(0, 8);
  private count = 0;
  /** The queue a test uses unless it names another. */
  readonly queue = this.name('q');
  /** The owner a test claims as unless it names another. */
  readonly owner = this.name('pool');

  constructor(readonly broker: Broker) {}

  /** A name unique to this test: a queue, an owner, a key or a group. */
  name(label: string): string {
    return `conformance-${label}-${this.run}`;
  }

  envelope(overrides: Partial<TaskEnvelope> = {}): TaskEnvelope {
    const n = ++this.count;
    return { id: this.name(`t${n}`), queue: this.queue, type: TYPE, payload: JSON.stringify({ n }), enqueuedAt: Date.now(), ...overrides };
  }

  /** Enqueues one envelope per entry of `overrides`, asserting each is new. */
  async add(...overrides: Array<Partial<TaskEnvelope>>): Promise<TaskEnvelope[]> {
    const envelopes = overrides.map((override) => this.envelope(override));
    const results = await this.broker.enqueue(envelopes);
    assert.deepEqual(
      results,
      envelopes.map((envelope) => ({ id: envelope.id, created: true })),
    );
    return envelopes;
  }

  claim(request: Partial<ClaimRequest> = {}): Promise<Delivery[]> {
    return this.broker.claim({ queue: this.queue, max: 10, owner: this.owner, leaseMs: LONG_LEASE_MS, ...request });
  }

  /** Claims exactly one task, the one with id `id`. */
  async claimOne(id: string, request: Partial<ClaimRequest> = {}): Promise<Delivery> {
    const deliveries = await this.claim({ max: 1, ...request });
    assert.deepEqual(ids(deliveries), [id]);
    return deliveries[0]!;
  }

  /** Claims until something comes: for tasks that wait for their time. */
  async claimWhenDue(request: Partial<ClaimRequest> = {}): Promise<Delivery[]> {
    let deliveries: Delivery[] = [];
    await waitFor(async () => (deliveries = await this.claim(request)).length > 0, 'a task to become due', 5000);
    return deliveries;
  }

  /** Enqueues tasks and dead-letters them with `reason`. */
  async bury(reason: DeadReason, ...overrides: Array<Partial<TaskEnvelope>>): Promise<TaskEnvelope[]> {
    const envelopes = await this.add(...overrides);
    for (const envelope of envelopes) {
      const delivery = await this.claimOne(envelope.id, { queue: envelope.queue });
      await this.broker.deadLetter(delivery, reason);
    }
    return envelopes;
  }

  async stats(queue = this.queue): Promise<Omit<QueueStats, 'queue'>> {
    const all = await this.broker.stats([queue]);
    assert.ok(
      all.every((stats) => stats.queue === queue),
      `stats([${queue}]) answered for other queues too: ${all.map((stats) => stats.queue).join(', ')}`,
    );
    const { queue: _queue, ...counts } = all[0] ?? { queue, ready: 0, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: 0 };
    return counts;
  }

  /** Asserts the counts of a queue: the ones not given must be 0, but enqueuedTotal is checked only when given. */
  async expectStats(expected: Partial<Omit<QueueStats, 'queue'>>, queue = this.queue): Promise<void> {
    const { enqueuedTotal, ...counts } = await this.stats(queue);
    const { enqueuedTotal: expectedTotal, ...expectedCounts } = expected;
    assert.deepEqual(counts, { ready: 0, blocked: 0, delayed: 0, running: 0, dead: 0, ...expectedCounts }, `stats of ${queue}`);
    if (expectedTotal !== undefined) assert.equal(enqueuedTotal, expectedTotal, `enqueuedTotal of ${queue}`);
  }
}

function ids(items: ReadonlyArray<Delivery | TaskEnvelope>): string[] {
  return items.map((item) => ('envelope' in item ? item.envelope.id : item.id));
}

function sortByQueue(stats: readonly QueueStats[]): QueueStats[] {
  return [...stats].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

/** Envelopes compared as they travel: as JSON, where an undefined field and a missing one are the same. */
function assertSameEnvelope(actual: TaskEnvelope, expected: TaskEnvelope, message?: string): void {
  assert.deepEqual(JSON.parse(JSON.stringify(actual)), JSON.parse(JSON.stringify(expected)), message);
}

/**
 * assertSameEnvelope, but for a task that went through a retry: whether a
 * retry may touch runAt is the concern of one test alone ("a retried task
 * keeps the envelope it was enqueued with"), so that one cause fails once.
 */
function assertSameTask(actual: TaskEnvelope, expected: TaskEnvelope, message?: string): void {
  const { runAt: _actualRunAt, ...rest } = actual;
  const { runAt: _expectedRunAt, ...expectedRest } = expected;
  assertSameEnvelope(rest as TaskEnvelope, expectedRest as TaskEnvelope, message);
}

function assertCounters(delivery: Delivery, attempts: number, deaths: number): void {
  assert.deepEqual({ attempts: delivery.attempts, deaths: delivery.deaths }, { attempts, deaths }, `counters of ${delivery.envelope.id}`);
}

async function sleepUntil(time: number): Promise<void> {
  const left = time - Date.now();
  if (left > 0) await sleep(left + 1);
}

export function brokerConformance(name: string, open: () => Promise<OpenedBroker>): void {
  describe(`broker conformance: ${name}`, () => {
    /** A test on a fresh broker, closed whatever happens. */
    const check = (title: string, body: (scope: Scope) => Promise<void>) =>
      test(title, async () => {
        const opened = await open();
        try {
          await body(new Scope(opened.broker));
        } finally {
          await opened.close();
        }
      });

    describe('enqueue and claim', () => {
      check('claim returns the enqueued task with its envelope intact and fresh counters', async (s) => {
        const past = Date.now() - 1000;
        const full = s.envelope({
          key: s.name('key'),
          group: s.name('group'),
          race: true,
          enqueuedAt: past,
          runAt: past + 10,
          payload: JSON.stringify({ text: 'héllo ✓', list: [1, 2.5, null], nested: { ok: true } }),
        });
        const minimal = s.envelope();
        const raw = s.envelope({ payload: 'not json {' });
        const results = await s.broker.enqueue([full, minimal, raw]);
        assert.deepEqual(results, [
          { id: full.id, created: true },
          { id: minimal.id, created: true },
          { id: raw.id, created: true },
        ]);

        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), [full.id, minimal.id, raw.id]);
        deliveries.forEach((delivery, index) => {
          assert.deepEqual(delivery.envelope, [full, minimal, raw][index]);
          assertCounters(delivery, 0, 0);
          assert.equal(delivery.cancelRequested, false);
          assert.equal(typeof delivery.tag, 'string');
          assert.ok(delivery.tag.length > 0);
        });
        assert.equal(new Set(deliveries.map((delivery) => delivery.tag)).size, 3, 'each delivery has its own tag');
      });

      check('enqueue with a known id is idempotent: created false, nothing duplicated', async (s) => {
        const first = s.envelope({ payload: '"first"' });
        const again = { ...first, payload: '"second"' };
        assert.deepEqual(await s.broker.enqueue([first, again]), [
          { id: first.id, created: true },
          { id: first.id, created: false },
        ]);
        assert.deepEqual(await s.broker.enqueue([again]), [{ id: first.id, created: false }]);
        await s.expectStats({ ready: 1, enqueuedTotal: 1 });

        const deliveries = await s.claim();
        assert.equal(deliveries.length, 1);
        assert.deepEqual(deliveries[0]!.envelope, first, 'the first enqueue wins');
        assert.deepEqual(await s.broker.enqueue([again]), [{ id: first.id, created: false }], 'also while it runs');
        assert.deepEqual(await s.claim({ owner: s.name('other') }), []);
      });

      check('the ids of finished tasks stay taken (tombstones): succeeded, cancelled or dead', async (s) => {
        const [done, cancelled, dead] = await s.add({}, {}, {});
        await s.broker.complete(await s.claimOne(done!.id), 'succeeded');
        await s.broker.complete(await s.claimOne(cancelled!.id), 'cancelled');
        await s.broker.deadLetter(await s.claimOne(dead!.id), FAILED);

        const results = await s.broker.enqueue([done!, cancelled!, dead!].map((envelope) => ({ ...envelope, enqueuedAt: Date.now() })));
        assert.deepEqual(results, [
          { id: done!.id, created: false },
          { id: cancelled!.id, created: false },
          { id: dead!.id, created: false },
        ]);
        assert.deepEqual(await s.claim(), [], 'nothing runs twice');
        await s.expectStats({ dead: 1, enqueuedTotal: 3 });
      });

      check('tasks of one queue are claimed in enqueue order (FIFO)', async (s) => {
        const batch = await s.add({}, {}, {}, {}, {});
        const later = [...(await s.add({})), ...(await s.add({}, {}))];
        const first = await s.claim({ max: 2 });
        const second = await s.claim({ max: 1, owner: s.name('other') });
        const rest = await s.claim({ max: 10 });
        assert.deepEqual([...ids(first), ...ids(second), ...ids(rest)], ids([...batch, ...later]));
      });

      check('claim hands out at most max tasks and leaves other queues untouched', async (s) => {
        const other = s.name('other-queue');
        const mine = await s.add({}, {}, {}, {}, {});
        const theirs = await s.add({ queue: other }, { queue: other });

        assert.deepEqual(ids(await s.claim({ max: 2 })), ids(mine.slice(0, 2)));
        await s.expectStats({ ready: 3, running: 2, enqueuedTotal: 5 });
        await s.expectStats({ ready: 2, enqueuedTotal: 2 }, other);

        assert.deepEqual(ids(await s.claim({ max: 10, queue: other })), ids(theirs));
        await s.expectStats({ running: 2, enqueuedTotal: 2 }, other);
        await s.expectStats({ ready: 3, running: 2 });
      });

      check('concurrent claims never hand out the same task twice', async (s) => {
        const tasks = await s.add({}, {}, {}, {}, {}, {});
        const owners = [1, 2, 3, 4, 5].map((n) => s.name(`pool${n}`));
        const batches = await Promise.all(owners.map((owner) => s.claim({ owner, max: 2 })));
        const claimed = batches.flatMap((batch) => ids(batch));
        assert.equal(claimed.length, tasks.length, `each task once: ${claimed.join(', ')}`);
        assert.deepEqual(sorted(claimed), sorted(ids(tasks)));
        assert.ok(batches.every((batch) => batch.length <= 2));
      });

      check('concurrent enqueues of one id create it once', async (s) => {
        const task = s.envelope();
        const results = await Promise.all([1, 2, 3].map((n) => s.broker.enqueue([{ ...task, payload: JSON.stringify({ n }) }])));
        assert.equal(results.flat().filter((result) => result.created).length, 1);
        assert.equal((await s.claim()).length, 1);
        await s.expectStats({ running: 1, enqueuedTotal: 1 });
      });

      check('a leased task is not handed out again, to its owner or to another', async (s) => {
        const [task] = await s.add({});
        await s.claimOne(task!.id);
        assert.deepEqual(await s.claim(), []);
        assert.deepEqual(await s.claim({ owner: s.name('other') }), []);
        await s.expectStats({ running: 1 });
      });

      check('complete acks a delivery: it leaves the counts and is never handed out again', async (s) => {
        const [succeeded, cancelled] = await s.add({}, {});
        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), ids([succeeded!, cancelled!]));
        await s.broker.complete(deliveries[0]!, 'succeeded');
        await s.expectStats({ running: 1 });
        await s.broker.complete(deliveries[1]!, 'cancelled');
        await s.expectStats({ enqueuedTotal: 2 });
        assert.deepEqual(await s.claim(), []);
      });

      check('a delayed enqueue (runAt) is not claimable before its time', async (s) => {
        const [delayed, now] = await s.add({ runAt: Date.now() + SHORT_MS }, {});
        assert.deepEqual(ids(await s.claim()), [now!.id], 'a later task that is due goes first');
        await s.expectStats({ delayed: 1, running: 1 });
        const deliveries = await s.claimWhenDue();
        assert.ok(Date.now() >= delayed!.runAt!, 'not before runAt');
        assert.deepEqual(ids(deliveries), [delayed!.id]);
        assert.deepEqual(deliveries[0]!.envelope, delayed, 'runAt is part of the envelope');
      });
    });

    describe('leases and at-least-once delivery', () => {
      check('reclaim({ owner }) returns the unacked tasks of a dead owner, counters unchanged', async (s) => {
        const dead = s.name('dead-pool');
        const alive = s.name('live-pool');
        const [task, other] = await s.add({}, {});
        await s.broker.retry(await s.claimOne(task!.id, { owner: dead }), { delayMs: 0, counts: 'attempt' });
        await s.broker.retry(await s.claimOne(task!.id, { owner: dead }), { delayMs: 0, counts: 'death' });
        assertCounters(await s.claimOne(task!.id, { owner: dead }), 1, 1);
        await s.claimOne(other!.id, { owner: alive });

        assert.equal(await s.broker.reclaim({ owner: dead }), 1);
        await s.expectStats({ ready: 1, running: 1 });
        const again = await s.claim({ owner: s.name('successor') });
        assert.deepEqual(ids(again), [task!.id], "the live owner's task stays with it");
        assertSameTask(again[0]!.envelope, task!);
        assertCounters(again[0]!, 1, 1);
        assert.equal(again[0]!.cancelRequested, false);
        assert.equal(await s.broker.reclaim({ owner: dead }), 0, 'nothing is left to reclaim');
      });

      check('reclaim({ expiredBefore }) returns the tasks whose lease ran out, counters unchanged', async (s) => {
        const [short, long] = await s.add({}, {});
        const claimedAt = Date.now();
        await s.broker.retry(await s.claimOne(short!.id, { leaseMs: SHORT_MS }), { delayMs: 0, counts: 'attempt' });
        await s.claimOne(short!.id, { leaseMs: SHORT_MS });
        await s.claimOne(long!.id, { owner: s.name('other'), leaseMs: LONG_LEASE_MS });

        assert.equal(await s.broker.reclaim({ expiredBefore: claimedAt }), 0, 'no lease had expired at claim time');
        await sleepUntil(Date.now() + SHORT_MS);
        assert.equal(await s.broker.reclaim({ expiredBefore: Date.now() }), 1);
        const again = await s.claim({ owner: s.name('successor') });
        assert.deepEqual(ids(again), [short!.id]);
        assertSameTask(again[0]!.envelope, short!);
        assertCounters(again[0]!, 1, 0);
      });

      check('renewLeases keeps a lease from expiring', async (s) => {
        const renewed = s.name('renewing-pool');
        const silent = s.name('silent-pool');
        const [kept, lost] = await s.add({}, {});
        await s.claimOne(kept!.id, { owner: renewed, leaseMs: SHORT_MS });
        await s.claimOne(lost!.id, { owner: silent, leaseMs: SHORT_MS });
        await s.broker.renewLeases(renewed, LONG_LEASE_MS);
        await sleepUntil(Date.now() + SHORT_MS);

        assert.equal(await s.broker.reclaim({ expiredBefore: Date.now() }), 1);
        assert.deepEqual(ids(await s.claim({ owner: s.name('successor') })), [lost!.id]);
        await s.expectStats({ running: 2 });
      });

      check('release returns deliveries untouched: same envelope, same counters', async (s) => {
        const [first, second] = await s.add({}, {});
        await s.broker.retry(await s.claimOne(first!.id), { delayMs: 0, counts: 'attempt' });
        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), ids([first!, second!]));
        await s.broker.release(deliveries);
        await s.expectStats({ ready: 2 });

        const again = await s.claim({ owner: s.name('other') });
        assert.deepEqual(sorted(ids(again)), sorted(ids([first!, second!])));
        const byId = new Map(again.map((delivery) => [delivery.envelope.id, delivery]));
        assertCounters(byId.get(first!.id)!, 1, 0);
        assertCounters(byId.get(second!.id)!, 0, 0);
        assertSameTask(byId.get(first!.id)!.envelope, first!);
        assertSameEnvelope(byId.get(second!.id)!.envelope, second!);
      });

      check('a late ack from an owner whose lease was reclaimed and re-claimed by another changes nothing', async (s) => {
        const key = s.name('key');
        const [head, next] = await s.add({ key }, { key });
        const stale = await s.claimOne(head!.id);
        assert.equal(await s.broker.reclaim({ owner: s.owner }), 1);
        const current = await s.claimOne(head!.id, { owner: s.name('successor') });

        await s.broker.complete(stale, 'succeeded');
        await s.broker.retry(stale, { delayMs: 0, counts: 'attempt' });
        await s.broker.deadLetter(stale, FAILED);
        await s.broker.release([stale]);
        await s.broker.complete(stale, 'cancelled');

        await s.expectStats({ running: 1, blocked: 1 });
        assert.deepEqual(await s.claim({ owner: s.name('third') }), [], 'the next of the key stays blocked behind the running head');
        assert.equal(await s.broker.getDead(head!.id), undefined);

        await s.broker.complete(current, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [next!.id], "the current owner's ack still counts");
      });
    });

    describe('retries and dead letters', () => {
      check('retry with delayMs holds the task until due and counts attempts and deaths separately', async (s) => {
        const [task] = await s.add({});
        const retriedAt = Date.now();
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: SHORT_MS, counts: 'attempt' });
        if (Date.now() < retriedAt + SHORT_MS) {
          assert.deepEqual(await s.claim(), [], 'not claimable before it is due');
          await s.expectStats({ delayed: 1 });
        }
        const due = await s.claimWhenDue();
        assert.ok(Date.now() >= retriedAt + SHORT_MS, 'not handed out before its delay');
        assert.deepEqual(ids(due), [task!.id]);
        assertCounters(due[0]!, 1, 0);

        await s.broker.retry(due[0]!, { delayMs: 0, counts: 'death' });
        const afterDeath = await s.claimOne(task!.id);
        assertCounters(afterDeath, 1, 1);
        await s.broker.retry(afterDeath, { delayMs: 0, counts: 'attempt' });
        assertCounters(await s.claimOne(task!.id), 2, 1);
        await s.expectStats({ running: 1, enqueuedTotal: 1 });
      });

      check('a retried task keeps the envelope it was enqueued with, whatever happens next', async (s) => {
        const [task] = await s.add({});
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 20, counts: 'attempt' });
        const [due] = await s.claimWhenDue();
        assertSameEnvelope(due!.envelope, task!, 'claimed after a retry delay: the delay is the broker\'s, not part of the envelope');
        await s.broker.release([due!]);
        assertSameEnvelope((await s.claimOne(task!.id)).envelope, task!, 'released after a retry');
        await s.broker.reclaim({ owner: s.owner });
        const reclaimed = await s.claimOne(task!.id, { owner: s.name('successor') });
        assertSameEnvelope(reclaimed.envelope, task!, 'reclaimed after a retry');
        await s.broker.deadLetter(reclaimed, FAILED);
        assertSameEnvelope((await s.broker.getDead(task!.id))!.envelope, task!, 'dead-lettered after a retry');

        const queue = s.name('delayed');
        const [delayed] = await s.add({ queue, runAt: Date.now() + 20 });
        const [first] = await s.claimWhenDue({ queue });
        await s.broker.retry(first!, { delayMs: 0, counts: 'death' });
        assertSameEnvelope((await s.claimOne(delayed!.id, { queue })).envelope, delayed!, 'the runAt given at enqueue survives a retry');
      });

      check('deadLetter moves a task to the dead letters with its reason and counters', async (s) => {
        const [task, live] = await s.add({}, {});
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'attempt' });
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        const before = Date.now();
        const reason = failed(2);
        await s.broker.deadLetter(await s.claimOne(task!.id), reason);

        const letter = await s.broker.getDead(task!.id);
        assert.ok(letter, 'getDead finds it');
        assertSameTask(letter.envelope, task!);
        assert.deepEqual(letter.reason, reason);
        assert.equal(letter.attempts, 2, 'the failed attempt the reason reports is counted');
        assert.equal(letter.deaths, 1);
        assert.ok(letter.deadAt >= before - 1000 && letter.deadAt <= Date.now() + 1000, `deadAt ${letter.deadAt} is about now`);
        assert.deepEqual(await s.broker.listDead({ queue: s.queue }), [letter]);

        await s.expectStats({ ready: 1, dead: 1 });
        assert.deepEqual(ids(await s.claim()), [live!.id], 'a dead letter is never claimed');
        assert.equal(await s.broker.getDead(live!.id), undefined, 'a live task is no dead letter');
        assert.equal(await s.broker.getDead(s.name('unknown')), undefined);
      });

      check('every kind of dead reason is kept as it was given', async (s) => {
        const reasons: DeadReason[] = [
          FAILED,
          { kind: 'timeout', message: 'ran over 50 ms', timeLimitMs: 50, attempts: 1 },
          { kind: 'bad_input', code: 'schema', message: 'payload does not match: a: expected number' },
          { kind: 'crashed', message: 'worker 123 was killed by SIGKILL', exitCode: null, signal: 'SIGKILL', stderrTail: 'line 1\nline 2 ✗', deaths: 1 },
          { kind: 'crashed', message: 'worker 124 exited with code 3', exitCode: 3, signal: null, stderrTail: '', deaths: 1 },
        ];
        for (const reason of reasons) {
          const [task] = await s.bury(reason, {});
          assert.deepEqual((await s.broker.getDead(task!.id))?.reason, reason);
        }
        await s.expectStats({ dead: reasons.length });
      });

      check('listDead filters by queue and pages with limit and offset', async (s) => {
        const other = s.name('other-queue');
        const mine = await s.bury(FAILED, {}, {}, {});
        const theirs = await s.bury(FAILED, { queue: other });

        assert.deepEqual(sorted(ids((await s.broker.listDead({ queue: s.queue })).map((letter) => letter.envelope))), sorted(ids(mine)));
        assert.deepEqual(ids((await s.broker.listDead({ queue: other })).map((letter) => letter.envelope)), ids(theirs));
        const everything = ids((await s.broker.listDead({})).map((letter) => letter.envelope));
        assert.deepEqual(sorted(everything), sorted(ids([...mine, ...theirs])));

        const page1 = ids((await s.broker.listDead({ queue: s.queue, limit: 2 })).map((letter) => letter.envelope));
        const page2 = ids((await s.broker.listDead({ queue: s.queue, limit: 2, offset: 2 })).map((letter) => letter.envelope));
        assert.equal(page1.length, 2);
        assert.equal(page2.length, 1);
        assert.deepEqual(sorted([...page1, ...page2]), sorted(ids(mine)), 'pages neither overlap nor skip');
      });

      check('retryDead re-enqueues at the back of the queue with fresh counters and returns the envelopes', async (s) => {
        const [task, waiting] = await s.add({}, {});
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'attempt' });
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        await s.broker.deadLetter(await s.claimOne(task!.id), failed(2));
        const [younger] = await s.add({});

        const returned = await s.broker.retryDead({ ids: [task!.id] });
        assert.deepEqual(ids(returned), [task!.id]);
        const envelope = returned[0]!;
        assert.deepEqual([envelope.queue, envelope.type, envelope.payload], [task!.queue, task!.type, task!.payload]);
        assert.equal(await s.broker.getDead(task!.id), undefined);
        await s.expectStats({ ready: 3 });

        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), ids([waiting!, younger!, task!]), 'at the back, behind tasks enqueued after it died');
        assertCounters(deliveries[2]!, 0, 0);
        assertSameEnvelope(deliveries[2]!.envelope, envelope, 'retryDead returns the envelopes as re-enqueued');
        assert.deepEqual(await s.broker.retryDead({ ids: [task!.id, s.name('unknown')] }), [], 'a live task is no dead letter');
      });

      check('retryDead by queue and for all queues', async (s) => {
        const other = s.name('other-queue');
        const mine = await s.bury(FAILED, {}, {});
        const theirs = await s.bury(FAILED, { queue: other });

        assert.deepEqual(sorted(ids(await s.broker.retryDead({ queue: s.queue }))), sorted(ids(mine)));
        assert.ok(await s.broker.getDead(theirs[0]!.id), 'other queues keep their dead letters');
        assert.deepEqual(ids(await s.broker.retryDead({ all: true })), ids(theirs));
        assert.deepEqual(await s.broker.listDead({}), []);

        const again = await s.claim({ queue: other });
        assert.deepEqual(ids(again), ids(theirs));
        assertCounters(again[0]!, 0, 0);
        assert.deepEqual(sorted(ids(await s.claim())), sorted(ids(mine)));
      });

      check('purgeDead removes dead letters by ids, by queue and all, and nothing else', async (s) => {
        const other = s.name('other-queue');
        const [a, b, c] = await s.bury(FAILED, {}, {}, {});
        const [d] = await s.bury(FAILED, { queue: other });
        const [live] = await s.add({});

        assert.deepEqual(await s.broker.purgeDead({ ids: [a!.id, live!.id] }), [a!.id]);
        assert.equal(await s.broker.getDead(a!.id), undefined);
        assert.deepEqual(sorted(await s.broker.purgeDead({ queue: s.queue })), sorted([b!.id, c!.id]));
        assert.ok(await s.broker.getDead(d!.id), 'other queues keep their dead letters');
        assert.deepEqual(await s.broker.purgeDead({ all: true }), [d!.id]);
        assert.deepEqual(await s.broker.listDead({}), []);
        await s.expectStats({ ready: 1 });
        assert.deepEqual(ids(await s.claim()), [live!.id], 'a live task is untouched');
      });
    });

    describe('keys', () => {
      check('tasks of one key run one at a time in enqueue order while other keys proceed in parallel', async (s) => {
        const [k1, k2] = [s.name('k1'), s.name('k2')];
        const [a1, a2, b1, a3, b2, free] = await s.add({ key: k1 }, { key: k1 }, { key: k2 }, { key: k1 }, { key: k2 }, {});
        await s.expectStats({ ready: 3, blocked: 3 });

        const heads = await s.claim();
        assert.deepEqual(ids(heads), ids([a1!, b1!, free!]));
        assert.deepEqual(await s.claim(), []);
        await s.expectStats({ running: 3, blocked: 3 });

        await s.broker.complete(heads[0]!, 'succeeded');
        const second = await s.claim();
        assert.deepEqual(ids(second), [a2!.id]);
        await s.broker.complete(heads[1]!, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [b2!.id]);
        assert.deepEqual(await s.claim(), [], 'a3 waits for a2');
        await s.broker.complete(second[0]!, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [a3!.id]);
      });

      check('the next task of a key waits across retries, releases and reclaims of its head', async (s) => {
        const key = s.name('key');
        const [head, next] = await s.add({ key }, { key });

        await s.broker.retry(await s.claimOne(head!.id), { delayMs: SHORT_MS, counts: 'attempt' });
        assert.deepEqual(await s.claim(), [], 'the head waits for its delay and the next waits for the head');
        await s.expectStats({ delayed: 1, blocked: 1 });
        const due = await s.claimWhenDue();
        assert.deepEqual(ids(due), [head!.id]);

        await s.broker.retry(due[0]!, { delayMs: 0, counts: 'death' });
        const afterDeath = await s.claim();
        assert.deepEqual(ids(afterDeath), [head!.id]);
        await s.broker.release(afterDeath);
        const afterRelease = await s.claim();
        assert.deepEqual(ids(afterRelease), [head!.id]);
        assert.equal(await s.broker.reclaim({ owner: s.owner }), 1);
        const afterReclaim = await s.claim({ owner: s.name('successor') });
        assert.deepEqual(ids(afterReclaim), [head!.id]);
        assert.deepEqual(await s.claim(), []);

        await s.broker.complete(afterReclaim[0]!, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [next!.id]);
      });

      check('dead-lettering the head of a key lets the next one run', async (s) => {
        const key = s.name('key');
        const [head, next] = await s.add({ key }, { key });
        await s.broker.deadLetter(await s.claimOne(head!.id), FAILED);
        assert.deepEqual(ids(await s.claim()), [next!.id]);
      });

      check('cancelling the head of a key lets the next one run: at once if queued, once acked if running', async (s) => {
        const [queuedKey, runningKey] = [s.name('queued-key'), s.name('running-key')];
        const [runningHead, runningNext, queuedHead, queuedNext] = await s.add(
          { key: runningKey },
          { key: runningKey },
          { key: queuedKey },
          { key: queuedKey },
        );
        const running = await s.claimOne(runningHead!.id);
        assert.deepEqual(
          (await s.broker.cancel({ ids: [queuedHead!.id, runningHead!.id] })).map((result) => result.outcome),
          ['cancelled', 'stopping'],
        );
        assert.deepEqual(ids(await s.claim()), [queuedNext!.id], 'the running head still holds its key');
        await s.broker.complete(running, 'cancelled');
        assert.deepEqual(ids(await s.claim()), [runningNext!.id]);
      });

      check('a cancelled task in the middle of a key is skipped', async (s) => {
        const key = s.name('key');
        const [first, second, third] = await s.add({ key }, { key }, { key });
        const head = await s.claimOne(first!.id);
        assert.deepEqual((await s.broker.cancel({ ids: [second!.id] }))[0]?.outcome, 'cancelled');
        await s.expectStats({ running: 1, blocked: 1 });
        await s.broker.complete(head, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [third!.id]);
      });
    });

    describe('cancellation', () => {
      check('cancelling a queued task: cancelled, and it never runs', async (s) => {
        const [task, other] = await s.add({}, {});
        assert.deepEqual(await s.broker.cancel({ ids: [task!.id] }), [{ id: task!.id, queue: s.queue, type: TYPE, outcome: 'cancelled' }]);
        await s.expectStats({ ready: 1 });
        assert.deepEqual(ids(await s.claim()), [other!.id]);
        assert.deepEqual(await s.claim(), []);
        assert.equal((await s.broker.cancel({ ids: [task!.id] }))[0]?.outcome, 'finished', 'a second cancel has nothing to do');
      });

      check('cancelling a leased task: stopping, listed for its owner, and it comes back flagged after release or reclaim', async (s) => {
        const other = s.name('other-pool');
        const [released, reclaimed] = await s.add({}, {});
        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), ids([released!, reclaimed!]));
        assert.deepEqual(await s.broker.pendingCancellations(s.owner), []);

        const results = await s.broker.cancel({ ids: [released!.id, reclaimed!.id] });
        assert.deepEqual(results, [
          { id: released!.id, queue: s.queue, type: TYPE, outcome: 'stopping' },
          { id: reclaimed!.id, queue: s.queue, type: TYPE, outcome: 'stopping' },
        ]);
        assert.deepEqual(sorted(await s.broker.pendingCancellations(s.owner)), sorted(ids([released!, reclaimed!])));
        assert.deepEqual(await s.broker.pendingCancellations(other), []);
        await s.expectStats({ running: 2 });

        await s.broker.release([deliveries[0]!]);
        const afterRelease = await s.claimOne(released!.id, { owner: other });
        assert.equal(afterRelease.cancelRequested, true);
        assert.equal(await s.broker.reclaim({ owner: s.owner }), 1);
        const afterReclaim = await s.claimOne(reclaimed!.id, { owner: other });
        assert.equal(afterReclaim.cancelRequested, true);
        assert.deepEqual(await s.broker.pendingCancellations(s.owner), [], 'the old owner holds nothing any more');

        await s.broker.complete(afterRelease, 'cancelled');
        await s.broker.complete(afterReclaim, 'cancelled');
        await s.expectStats({});
        assert.deepEqual(
          (await s.broker.cancel({ ids: [released!.id, reclaimed!.id] })).map((result) => result.outcome),
          ['finished', 'finished'],
        );
      });

      check('cancelling finished and unknown tasks: finished or unknown, in the order asked', async (s) => {
        const [succeeded, dead] = await s.add({}, {});
        await s.broker.complete(await s.claimOne(succeeded!.id), 'succeeded');
        await s.broker.deadLetter(await s.claimOne(dead!.id), FAILED);
        const unknown = s.name('unknown');
        const results = await s.broker.cancel({ ids: [succeeded!.id, unknown, dead!.id] });
        assert.deepEqual(
          results.map((result) => [result.id, result.outcome]),
          [
            [succeeded!.id, 'finished'],
            [unknown, 'unknown'],
            [dead!.id, 'finished'],
          ],
        );
        assert.ok(await s.broker.getDead(dead!.id), 'a cancel leaves a dead letter as it is');
      });

      check('cancelling a group takes every unfinished member but the exception', async (s) => {
        const [group, otherGroup] = [s.name('group'), s.name('other-group')];
        const [done, running, queued, winner, stranger] = await s.add({ group }, { group }, { group }, { group }, { group: otherGroup });
        await s.broker.complete(await s.claimOne(done!.id), 'succeeded');
        await s.claimOne(running!.id);

        const results = await s.broker.cancel({ group, except: winner!.id });
        const outcomes = new Map(results.map((result) => [result.id, result.outcome]));
        assert.equal(outcomes.get(queued!.id), 'cancelled');
        assert.equal(outcomes.get(running!.id), 'stopping');
        assert.ok(!outcomes.has(winner!.id), 'the exception is left alone');
        assert.ok(!outcomes.has(stranger!.id), 'other groups are left alone');
        assert.ok([undefined, 'finished'].includes(outcomes.get(done!.id)), 'a finished member has nothing to do');
        assert.deepEqual(await s.broker.pendingCancellations(s.owner), [running!.id]);
        assert.deepEqual(ids(await s.claim()), ids([winner!, stranger!]));

        const all = await s.broker.cancel({ group });
        const acted = all.filter((result) => result.outcome === 'cancelled' || result.outcome === 'stopping');
        assert.deepEqual(
          acted.map((result) => `${result.id} ${result.outcome}`).sort(),
          [`${running!.id} stopping`, `${winner!.id} stopping`].sort(),
          'without an exception, every unfinished member',
        );
      });
    });

    describe('observing', () => {
      check('stats count ready, blocked, delayed, running, dead and enqueuedTotal per queue', async (s) => {
        const other = s.name('other-queue');
        const key = s.name('key');
        const [dead, retrying, keyHead, , ready] = await s.add({}, {}, { key }, { key }, {}, { runAt: Date.now() + LONG_LEASE_MS });
        await s.add({ queue: other });
        const deliveries = await s.claim({ max: 3 });
        assert.deepEqual(ids(deliveries), ids([dead!, retrying!, keyHead!]));
        await s.broker.deadLetter(deliveries[0]!, FAILED);
        await s.broker.retry(deliveries[1]!, { delayMs: LONG_LEASE_MS, counts: 'attempt' });
        assert.deepEqual(await s.broker.enqueue([ready!]), [{ id: ready!.id, created: false }]);

        const expected: QueueStats = { queue: s.queue, ready: 1, blocked: 1, delayed: 2, running: 1, dead: 1, enqueuedTotal: 6 };
        const expectedOther: QueueStats = { queue: other, ready: 1, blocked: 0, delayed: 0, running: 0, dead: 0, enqueuedTotal: 1 };
        assert.deepEqual(await s.broker.stats([s.queue]), [expected]);
        const both = await s.broker.stats([s.queue, other]);
        assert.deepEqual(sortByQueue(both), sortByQueue([expected, expectedOther]));
        assert.deepEqual(sortByQueue(await s.broker.stats()), sortByQueue([expected, expectedOther]), 'stats() covers every queue');
        const unused = s.name('unused-queue');
        const none = await s.broker.stats([unused]);
        assert.ok(
          none.every((stats) => stats.queue === unused && stats.ready + stats.blocked + stats.delayed + stats.running + stats.dead + stats.enqueuedTotal === 0),
          `an unused queue has nothing: ${JSON.stringify(none)}`,
        );
      });

      check('subscribe calls back after an enqueue and after a cancel, until unsubscribed', async (s) => {
        let calls = 0;
        const unsubscribe = s.broker.subscribe(() => calls++);
        try {
          const [task] = await s.add({});
          await waitFor(() => calls > 0, 'the listener to be called after an enqueue', 5000);
          await s.claimOne(task!.id);
          await sleep(SHORT_MS);
          const beforeCancel = calls;
          await s.broker.cancel({ ids: [task!.id] });
          await waitFor(() => calls > beforeCancel, 'the listener to be called after a running task was cancelled', 5000);
        } finally {
          unsubscribe();
        }
        const seen = calls;
        await s.add({});
        await sleep(SHORT_MS);
        assert.equal(calls, seen, 'no call after unsubscribe');
      });
    });

    describe('prune', () => {
      check('prune forgets finished tasks older than the retention; their ids can be enqueued again', async (s) => {
        const [succeeded, cancelledRunning, dead, running, cancelledQueued, queued] = await s.add({}, {}, {}, {}, {}, {});
        const deliveries = await s.claim({ max: 4 });
        await s.broker.complete(deliveries[0]!, 'succeeded');
        await s.broker.complete(deliveries[1]!, 'cancelled');
        await s.broker.deadLetter(deliveries[2]!, FAILED);
        await s.broker.cancel({ ids: [cancelledQueued!.id] });

        assert.equal(await s.broker.prune({ now: Date.now(), maxAgeMs: 60_000, maxRecords: 1000 }), 0, 'nothing is old enough yet');
        assert.equal(await s.broker.prune({ now: Date.now() + 60_000, maxAgeMs: 1000, maxRecords: 1000 }), 3);

        const results = await s.broker.enqueue([succeeded!, cancelledRunning!, dead!, running!, cancelledQueued!, queued!]);
        assert.deepEqual(
          results.map((result) => [result.id, result.created]),
          [
            [succeeded!.id, true],
            [cancelledRunning!.id, true],
            [dead!.id, false],
            [running!.id, false],
            [cancelledQueued!.id, true],
            [queued!.id, false],
          ],
        );
        assert.ok(await s.broker.getDead(dead!.id), 'dead letters are not pruned');
        await s.expectStats({ ready: 4, running: 1, dead: 1 });
      });

      check('prune keeps at most maxRecords finished tasks, forgetting the oldest first', async (s) => {
        const tasks = await s.add({}, {}, {}, {});
        for (const task of tasks.slice(0, 3)) {
          await s.broker.complete(await s.claimOne(task.id), 'succeeded');
          await sleep(5);
        }
        assert.equal(await s.broker.prune({ now: Date.now(), maxAgeMs: 60_000, maxRecords: 1 }), 2);
        const results = await s.broker.enqueue(tasks);
        assert.deepEqual(
          results.map((result) => result.created),
          [true, true, false, false],
          'the two oldest are forgotten, the newest finished and the queued one are kept',
        );
      });
    });
  });
}
