import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
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
  /** Closes the broker and whatever `peer` opened; a second call does nothing. */
  close(): Promise<void>;
  /**
   * Another broker on the same namespace, as another pool process would open
   * it: closing it is that process dying. Cases that hand tasks from one pool
   * to another use it. Required when `holding` is 'connection'; without it, a
   * lease broker's peers are owners of the same broker instance.
   */
  peer?(): Promise<OpenedBroker>;
  /**
   * Cuts this broker's connection to its server as a network failure would
   * (the broker itself stays open and reconnects by itself). A broker without
   * a connection to lose (the embedded one) leaves it out.
   */
  interrupt?(): Promise<void>;
}

/**
 * How an adapter differs from the others where the design lets it. Each trait
 * is a behaviour the cases assert as stated, not a licence to skip: a case
 * that depends on one says so in its title or its expectations, and every
 * other expectation holds for every adapter.
 */
export interface BrokerTraits {
  /**
   * How long a claim may take to see a task that can start. 0: claim reads
   * the queue itself (SQLite), so one call sees everything, and what one owner
   * gives back is at once there for every other owner. Above 0: the broker
   * pushes tasks into a buffer per owner that claim empties (RabbitMQ), so a
   * claim right after an enqueue may return nothing yet. An owner that has
   * claimed keeps room for as many tasks as its last claim said it could
   * hold (those it held then and `max` more, at least one): each task it
   * settles makes room for another, which the broker pushes into its buffer.
   * Tasks that come back to the queue go to whoever has room, the owner that
   * gave them back included, so cases hand tasks from one pool to another
   * through a peer that goes away.
   */
  deliveryMs: number;
  /**
   * What keeps a claimed task from the others, and what gives it back.
   * 'lease' (SQLite): a lease per task that its owner renews; the tasks of a
   * dead owner or an expired lease come back through reclaim, and an ack from
   * an owner whose lease was taken changes nothing. 'connection' (RabbitMQ):
   * a task is held while the connection of the broker that claimed it lives;
   * when it dies, the server puts the task back by itself, so reclaim returns
   * 0, and renewLeases only refreshes running counts and key leases: the
   * tasks of a holder that died count as running until the lease of its
   * claim has run out.
   */
  holding: 'lease' | 'connection';
  /**
   * Whether stats count tasks that wait for an earlier task of their key as
   * `blocked`. false (RabbitMQ, which cannot see keys): blocked is always 0;
   * such a task counts as ready while it is in its queue, and not at all while
   * the consumer of a pool holds it back for its key.
   */
  countsBlocked: boolean;
  /**
   * Whether prune forgets finished tasks. false (RabbitMQ): prune returns 0,
   * and finished ids stay taken until they expire by themselves (a TTL of
   * 24 h in the ledger).
   */
  prunes: boolean;
  /**
   * In which order the tasks of one key run. Never two at the same time,
   * whichever owners claim them. 'strict' (SQLite): in enqueue order. 'per-owner'
   * (RabbitMQ): the tasks that one owner receives run in enqueue order, also
   * across retries of the head, but across owners any order is possible.
   */
  keyOrder: 'strict' | 'per-owner';
  /**
   * Where a retried task goes among the other tasks of its queue. 'kept'
   * (SQLite): its place, ahead of tasks enqueued after it. 'back' (RabbitMQ,
   * which republishes it with its new counters): behind every task queued by
   * then. Released tasks go back to the same place.
   */
  retryPlace: 'kept' | 'back';
  /**
   * The shortest delay (a retry's delayMs, or a runAt) during which a waiting
   * task can be watched waiting: a claim, which may take deliveryMs, returns
   * nothing and stats count it as delayed. SQLite: 100 ms, a due time in the
   * task's row. RabbitMQ: delays go through holding queues of 100 ms, 1 s,
   * 10 s, ...; a task waits in the longest that fits and is honoured to
   * within the shortest (100 ms), and between two rounds it passes through
   * its queue, where stats cannot count it as delayed: 1.1 s waits whole in
   * the 1 s queue while a case looks, then one round of 100 ms.
   */
  watchableDelayMs: number;
}

/** Long enough never to expire during a test. */
const LONG_LEASE_MS = 60_000;
/** Short enough to wait for: retry delays, delayed enqueues and short leases. */
const SHORT_MS = 100;
/**
 * The lease of a pool that will die in a case before the case counts what
 * runs: on a 'connection' broker, its tasks count as running until it ends.
 */
const DYING_LEASE_MS = 1000;
/** How often a claim on a pushing broker asks again while it waits for deliveries. */
const CLAIM_POLL_MS = 10;
/** Longer than any broker waits to send an ack it has decided (RabbitMQ's ack window is 50 ms). */
const ACKS_SENT_MS = 200;
/** Longer than a broker keeps credit a pool no longer asks for (RabbitMQ's consumers shrink after 2 s). */
const READ_AHEAD_RETURNED_MS = 2500;
/** How long claimOne waits for the task it expects. */
const CLAIM_ONE_WINDOW_MS = 3000;

const TYPE = 'conformance.echo';

/** A handler's failure after `attempts` attempts. */
function failed(attempts: number): DeadReason {
  return { kind: 'failed', message: 'boom', stack: 'Error: boom\n    at handler (tasks.js:1:1)', attempts };
}

const FAILED = failed(1);

/** Names unique to one test, shared by its broker and its peers. */
class Names {
  private readonly run = randomUUID().slice(0, 8);
  private count = 0;

  /** A queue, an owner, a key or a group of this test. */
  name(label: string): string {
    return `conformance-${label}-${this.run}`;
  }

  /** The number of the next envelope, so that peers never reuse an id. */
  next(): number {
    return ++this.count;
  }
}

/**
 * Names, envelopes and short-hands for one test against one broker. A peer
 * (another pool process on the same namespace) is a Scope too, with the same
 * queue and names and an owner of its own.
 */
class Scope {
  /** The queue a test uses unless it names another. */
  readonly queue: string;
  private readonly peers: Scope[] = [];
  private closed = false;

  constructor(
    private readonly opened: OpenedBroker,
    readonly traits: BrokerTraits,
    private readonly names: Names,
    /** The owner this scope claims as unless told otherwise. */
    readonly owner: string,
    queue?: string,
  ) {
    this.queue = queue ?? names.name('q');
  }

  get broker(): Broker {
    return this.opened.broker;
  }

  /** A name unique to this test: a queue, an owner, a key or a group. */
  name(label: string): string {
    return this.names.name(label);
  }

  envelope(overrides: Partial<TaskEnvelope> = {}): TaskEnvelope {
    const n = this.names.next();
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

  /**
   * Claims as a pool would: on a broker that pushes deliveries, it asks again
   * until it has `max` of them or `windowMs` (deliveryMs unless told) has passed, so an empty answer
   * means nothing came in that time. On the others, one call.
   */
  async claim(request: Partial<ClaimRequest> = {}, windowMs = this.traits.deliveryMs): Promise<Delivery[]> {
    const full: ClaimRequest = { queue: this.queue, max: 10, owner: this.owner, leaseMs: LONG_LEASE_MS, ...request };
    const deliveries = await this.broker.claim(full);
    const deadline = Date.now() + windowMs;
    while (deliveries.length < full.max && Date.now() < deadline) {
      await sleep(CLAIM_POLL_MS);
      deliveries.push(...(await this.broker.claim({ ...full, max: full.max - deliveries.length })));
    }
    return deliveries;
  }

  /** Claims exactly one task, the one with id `id`. */
  async claimOne(id: string, request: Partial<ClaimRequest> = {}): Promise<Delivery> {
    // It ends as soon as the one task comes, so a long window costs nothing unless the case fails: on a machine
    // whose host pauses it, a delivery that normally takes milliseconds can take longer than deliveryMs.
    const deliveries = await this.claim({ max: 1, ...request }, Math.max(this.traits.deliveryMs, CLAIM_ONE_WINDOW_MS));
    assert.deepEqual(ids(deliveries), [id]);
    return deliveries[0]!;
  }

  /** Claims until something comes: for tasks that wait for their time. */
  async claimWhenDue(request: Partial<ClaimRequest> = {}): Promise<Delivery[]> {
    let deliveries: Delivery[] = [];
    await waitFor(async () => (deliveries = await this.claim(request)).length > 0, 'a task to become due', 5000);
    return deliveries;
  }

  /**
   * Enqueues tasks and dead-letters them with `reason`, through a pool of
   * their own that then goes away: the broker under test is left with dead
   * letters only, and no owner of it has room that a later task could fill.
   */
  async bury(reason: DeadReason, ...overrides: Array<Partial<TaskEnvelope>>): Promise<TaskEnvelope[]> {
    const envelopes = await this.add(...overrides);
    const undertaker = await this.peer('undertaker');
    for (const envelope of envelopes) {
      const delivery = await undertaker.claimOne(envelope.id, { queue: envelope.queue });
      await undertaker.broker.deadLetter(delivery, reason);
    }
    await undertaker.close();
    return envelopes;
  }

  /**
   * Another pool on the same namespace, claiming as `name(label)`: a broker of
   * its own when the adapter opens peers, else this broker under another
   * owner (only a lease broker can stand in for a peer: its owners are what
   * it holds tasks by). Closed at the end of the test if not before.
   */
  async peer(label = 'peer'): Promise<Scope> {
    let opened: OpenedBroker;
    if (this.opened.peer) opened = await this.opened.peer();
    else if (this.traits.holding === 'lease') opened = { broker: this.broker, close: async () => {} };
    else throw new Error('a broker that holds tasks by connection must open peers (OpenedBroker.peer) for these cases');
    const peer = new Scope(opened, this.traits, this.names, this.name(label), this.queue);
    this.peers.push(peer);
    return peer;
  }

  /**
   * The peer `holder` dies and this scope lives on. On a lease broker, the
   * survivors take its tasks back with reclaim({ owner }), as the pool
   * manager's reaper does, and this returns how many; on a connection broker
   * the server puts them back by itself, and this returns undefined.
   */
  async outlive(holder: Scope): Promise<number | undefined> {
    await holder.close();
    return this.traits.holding === 'lease' ? this.broker.reclaim({ owner: holder.owner }) : undefined;
  }

  /** Cuts this broker's connection, when it has one to lose. */
  async interrupt(): Promise<void> {
    await this.opened.interrupt?.();
  }

  get canInterrupt(): boolean {
    return this.opened.interrupt !== undefined;
  }

  /** Closes this scope's broker and the peers it opened; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers) await peer.close();
    await this.opened.close();
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

  /**
   * The counts of `waiting` tasks held back for their key, and of `ready`
   * other tasks, as stats give them (see countsBlocked): blocked, or ready
   * while they are in their queue, or nowhere while a consumer holds them.
   */
  keyWaits(waiting: number, where: 'in the queue' | 'held by a consumer', ready = 0): Partial<QueueStats> {
    if (this.traits.countsBlocked) return { ready, blocked: waiting };
    return { ready: where === 'in the queue' ? ready + waiting : ready };
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

/** Until Date.now() is past `time`. A timer alone may fire early: it counts from the event loop's clock, read at the start of its turn. */
async function sleepUntil(time: number): Promise<void> {
  while (Date.now() <= time) await sleep(time - Date.now() + 1);
}

export function brokerConformance(name: string, traits: BrokerTraits, open: () => Promise<OpenedBroker>): void {
  /** Reasons to skip the cases written for one kind of broker; false runs them. */
  const onlyForLeases =
    traits.holding === 'lease' ? false : `${name} holds tasks by connection, not by lease: its counterparts are the cases on pools that die or lose their connection`;
  const onlyWhenPruning = traits.prunes ? false : `${name} does not prune: finished ids expire by themselves (see "prune forgets nothing")`;
  const onlyWithoutPruning = traits.prunes ? `${name} prunes (see the cases above)` : false;
  const WATCHABLE_MS = traits.watchableDelayMs;

  describe(`broker conformance: ${name}`, () => {
    /**
     * A test on a fresh broker, closed with its peers whatever happens. On a
     * pushing broker, whose cases wait for deliveries within set windows, a
     * failed case runs once more on fresh queues, and says so: a host that
     * pauses this machine for most of a window fails a case by chance, a broken
     * promise fails it twice.
     */
    const attempts = traits.deliveryMs > 0 ? 2 : 1;
    const check = (title: string, body: (scope: Scope, t: TestContext) => Promise<void>, skip: false | string = false) =>
      test(title, { skip }, async (t) => {
        for (let attempt = 1; ; attempt++) {
          const names = new Names();
          const scope = new Scope(await open(), traits, names, names.name('pool'));
          try {
            await body(scope, t);
            return;
          } catch (error) {
            if (attempt >= attempts) throw error;
            t.diagnostic(`attempt ${attempt} failed, running once more on fresh queues: ${(error as Error).message.split('\n')[0]}`);
          } finally {
            await scope.close();
          }
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

      check('bad input travels intact to the pool, which dead-letters it at once with the reason', async (s) => {
        // The broker carries what producers in any language send; deciding what is bad is the worker's job.
        const notJson = s.envelope({ payload: '{"unterminated": ' });
        const unknownType = s.envelope({ type: 'conformance.no-such-type', payload: '{"a":1}' });
        const empty = s.envelope({ payload: '' });
        const schema = s.envelope({ payload: '{"n":"not a number","text":"tab\\t, newline\\n, ✗ 😀"}' });
        const oversize = s.envelope({ payload: JSON.stringify('x'.repeat(1024 * 1024 + 1)) });
        const bad = [notJson, unknownType, empty, schema, oversize];
        assert.deepEqual(
          await s.broker.enqueue(bad),
          bad.map((envelope) => ({ id: envelope.id, created: true })),
        );

        const deliveries = await s.claim();
        assert.deepEqual(ids(deliveries), ids(bad));
        deliveries.forEach((delivery, index) => {
          assert.deepEqual(delivery.envelope, bad[index], `${delivery.envelope.id} arrives as it was sent`);
          assertCounters(delivery, 0, 0);
        });

        const reasons: DeadReason[] = [
          { kind: 'bad_input', code: 'not_json', message: 'payload is not JSON: Unexpected end of JSON input' },
          { kind: 'bad_input', code: 'unknown_type', message: 'no task type "conformance.no-such-type" in the task module' },
          { kind: 'bad_input', code: 'not_json', message: 'payload is empty' },
          { kind: 'bad_input', code: 'schema', message: 'payload does not match: n: expected number' },
          { kind: 'bad_input', code: 'oversize', message: 'payload is 1048579 bytes, over the limit of 1048576' },
        ];
        for (const [index, delivery] of deliveries.entries()) await s.broker.deadLetter(delivery, reasons[index]!);

        for (const [index, envelope] of bad.entries()) {
          const letter = await s.broker.getDead(envelope.id);
          assert.ok(letter, `${envelope.id} is a dead letter`);
          assert.deepEqual(letter.reason, reasons[index]);
          assertSameEnvelope(letter.envelope, envelope, 'the dead letter keeps the input as it came');
          assert.deepEqual([letter.attempts, letter.deaths], [0, 0], 'bad input is not retried');
        }
        assert.deepEqual(await s.claim(), [], 'nothing loops');
        await s.expectStats({ dead: bad.length });
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

      check('a pool holds back no more tasks than it has room for: what it did not ask for goes to the others', async (s) => {
        const tasks = await s.add({}, {}, {}, {}, {}, {}, {}, {});
        // One free worker at a time, twice: the pool asks for one task, then for one more.
        const first = await s.claim({ max: 1 });
        const second = await s.claim({ max: 1 });
        assert.deepEqual(ids([...first, ...second]), ids(tasks.slice(0, 2)));
        // Both of its workers are busy: on a pushing broker it has no room left (see deliveryMs).
        const others = await s.claim({ owner: s.name('other-pool') });
        assert.deepEqual(ids(others), ids(tasks.slice(2)), 'the other pool gets every task the first did not ask for');
        assert.deepEqual(await s.claim({ max: 0 }), [], 'and the first holds none back');
      });

      check('a pool that finished a task and took the next holds back nothing more, however its ack travels', async (s) => {
        const [first, second] = await s.add({}, {});
        // Its one worker finishes a task and takes the next, while the first one's ack may still be on its way.
        await s.broker.complete(await s.claimOne(first!.id), 'succeeded');
        await s.claimOne(second!.id);
        // A while later, with both acks surely sent, a task comes in.
        await sleep(ACKS_SENT_MS);
        const [late] = await s.add({});
        const others = await s.claim({ owner: s.name('other-pool'), max: 1 });
        assert.deepEqual(ids(others), [late!.id], 'a task enqueued while the pool is busy goes to the other pool');
      });

      check('a pool that asked for read-ahead and then asks for nothing gives it back within seconds', async (s) => {
        const [task] = await s.add({});
        await s.claimOne(task!.id, { readAhead: 3 });
        await s.claim({ max: 0 });
        // Its workers are all busy, and stay so: it asks for nothing more.
        await sleep(READ_AHEAD_RETURNED_MS);
        const later = await s.add({}, {});
        const others = await s.claim({ owner: s.name('other-pool'), max: 2 });
        assert.deepEqual(ids(others), ids(later), 'the tasks enqueued meanwhile go to the other pool');
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
        const [delayed, now] = await s.add({ runAt: Date.now() + WATCHABLE_MS }, {});
        assert.deepEqual(ids(await s.claim()), [now!.id], 'a later task that is due goes first');
        await s.expectStats({ delayed: 1, running: 1 });
        const deliveries = await s.claimWhenDue();
        assert.ok(Date.now() >= delayed!.runAt!, 'not before runAt');
        assert.deepEqual(ids(deliveries), [delayed!.id]);
        assert.deepEqual(deliveries[0]!.envelope, delayed, 'runAt is part of the envelope');
      });

      check('a task due now goes first, however many delayed tasks were enqueued before it', async (s) => {
        const later = Date.now() + 3_600_000;
        await s.add(...Array.from({ length: 200 }, () => ({ runAt: later })));
        const [now] = await s.add({});
        assert.deepEqual(ids(await s.claim()), [now!.id]);
        await s.expectStats({ delayed: 200, running: 1, enqueuedTotal: 201 });
      });
    });

    describe('holding tasks and at-least-once delivery', () => {
      check(
        'reclaim({ owner }) returns the unacked tasks of a dead owner, counters unchanged',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check(
        'reclaim({ expiredBefore }) returns the tasks whose lease ran out, counters unchanged',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check(
        'renewLeases keeps a lease from expiring',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check(
        'a late ack from an owner whose lease was reclaimed and re-claimed by another changes nothing',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check('a task held by a pool that dies comes back to the others, envelope and counters unchanged (at-least-once)', async (s) => {
        const [task] = await s.add({});
        const holder = await s.peer('dying-pool');
        const lease = { leaseMs: DYING_LEASE_MS };
        await holder.broker.retry(await holder.claimOne(task!.id, lease), { delayMs: 0, counts: 'attempt' });
        await holder.broker.retry(await holder.claimOne(task!.id, lease), { delayMs: 0, counts: 'death' });
        assertCounters(await holder.claimOne(task!.id, lease), 1, 1);
        // Enqueued once the dying pool has no room left (its retried copies acked, or not), so that only the live pool can take it.
        const [other] = await s.add({});
        await s.claimOne(other!.id, { owner: s.name('live-pool') });

        const reclaimed = await s.outlive(holder);
        if (traits.holding === 'lease') assert.equal(reclaimed, 1, 'the survivors reclaim what the dead pool held');
        else {
          // The task is back at once, but the dead pool's count of it runs out with its lease (see holding).
          const counted = async () => (await s.stats()).running === 1;
          await waitFor(counted, "the dead pool's running count to end with its lease", DYING_LEASE_MS + 2000);
        }
        await s.expectStats({ ready: 1, running: 1 });

        const again = await s.claim({ owner: s.name('successor') });
        assert.deepEqual(ids(again), [task!.id], "the live pool's task stays with it");
        assertSameTask(again[0]!.envelope, task!);
        assertCounters(again[0]!, 1, 1);
        assert.equal(again[0]!.cancelRequested, false);
        await s.expectStats({ running: 2 });
        await s.broker.complete(again[0]!, 'succeeded');
        assert.deepEqual(await s.claim({ owner: s.name('third') }), [], 'and it is not handed out once more');
      });

      check('a pool that loses its connection in the middle of a task keeps it: no second delivery, its acks count, no death counted', async (s) => {
        // An embedded broker has no connection to lose (no interrupt): the same steps must hold all the more.
        const [task] = await s.add({});
        const running = await s.claimOne(task!.id);
        await s.interrupt();
        // Stats need the connection: once they answer, the broker is back, and the server is giving the task to it again.
        await s.stats();
        assert.deepEqual(await s.claim(), [], 'the task it runs is not handed to it a second time');
        await s.expectStats({ running: 1 });

        await s.broker.retry(running, { delayMs: 0, counts: 'attempt' });
        const retried = await s.claimOne(task!.id);
        assertSameTask(retried.envelope, task!);
        assertCounters(retried, 1, 0);

        await s.interrupt();
        await s.stats();
        assert.deepEqual(await s.claim(), [], 'nor after a second loss');
        await s.broker.complete(retried, 'succeeded');
        assert.deepEqual(await s.claim(), [], 'acked: it does not come back');
        assert.deepEqual(await s.claim({ owner: s.name('other') }), [], 'to anyone');
        await s.expectStats({ enqueuedTotal: 1 });
        assert.equal((await s.broker.cancel({ ids: [task!.id] }))[0]?.outcome, 'finished');
      });

      check(
        'a late ack from a pool that lost its task to another changes nothing',
        async (s, t) => {
          if (traits.holding === 'connection' && !s.canInterrupt) return t.skip('a connection broker must offer interrupt() for this case');
          const key = s.name('key');
          const [head, next] = await s.add({ key }, { key });
          const holder = await s.peer('holder');
          const successor = s.name('successor');
          const stale = await holder.claimOne(head!.id);
          if (traits.holding === 'lease') {
            // The holder stopped renewing and the others took its lease; it lives on.
            assert.equal(await s.broker.reclaim({ owner: holder.owner }), 1);
          } else {
            // The successor has room for the next of the key and for the head when it comes back.
            assert.deepEqual(await s.claim({ owner: successor, max: 2 }), [], 'the next waits for the head');
            // The holder's connection dies, RabbitMQ puts the head back; the holder lives on.
            await holder.interrupt();
          }
          const current = await s.claimOne(head!.id, { owner: successor });

          await holder.broker.complete(stale, 'succeeded');
          await holder.broker.retry(stale, { delayMs: 0, counts: 'attempt' });
          await holder.broker.deadLetter(stale, FAILED);
          await holder.broker.release([stale]);
          await holder.broker.complete(stale, 'cancelled');

          assert.equal(await s.broker.getDead(head!.id), undefined, 'the late dead-letter buried nothing');
          await s.expectStats({ running: 1, ...s.keyWaits(1, traits.holding === 'lease' ? 'in the queue' : 'held by a consumer') });
          assert.deepEqual(await s.claim({ owner: successor }), [], 'the next of the key stays blocked behind the running head');
          assert.deepEqual(await s.claim({ owner: s.name('third') }), [], 'and the head is not handed out again');

          await s.broker.complete(current, 'succeeded');
          assert.deepEqual(ids(await s.claim({ owner: successor })), [next!.id], "the current owner's ack still counts");
        },
      );

      check('release returns deliveries untouched: same envelope, same counters (a drain)', async (s) => {
        const [first, second] = await s.add({}, {});
        // The pool that drains: it gives back what it has not finished, then exits.
        const draining = await s.peer('draining-pool');
        await draining.broker.retry(await draining.claimOne(first!.id), { delayMs: 0, counts: 'attempt' });
        const deliveries = await draining.claim({ max: 2 });
        assert.deepEqual(ids(deliveries), ids(traits.retryPlace === 'kept' ? [first!, second!] : [second!, first!]));
        await draining.broker.release(deliveries);
        await draining.close();
        await s.expectStats({ ready: 2 });

        const again = await s.claim({ owner: s.name('other') });
        assert.deepEqual(sorted(ids(again)), sorted(ids([first!, second!])));
        const byId = new Map(again.map((delivery) => [delivery.envelope.id, delivery]));
        assertCounters(byId.get(first!.id)!, 1, 0);
        assertCounters(byId.get(second!.id)!, 0, 0);
        assertSameTask(byId.get(first!.id)!.envelope, first!);
        assertSameEnvelope(byId.get(second!.id)!.envelope, second!);
        assert.ok(again.every((delivery) => !delivery.cancelRequested));
      });
    });

    describe('retries and dead letters', () => {
      check('retry with delayMs holds the task until due and counts attempts and deaths separately', async (s) => {
        const [task] = await s.add({});
        const retriedAt = Date.now();
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: WATCHABLE_MS, counts: 'attempt' });
        if (Date.now() < retriedAt + WATCHABLE_MS) {
          assert.deepEqual(await s.claim(), [], 'not claimable before it is due');
          await s.expectStats({ delayed: 1 });
        }
        const due = await s.claimWhenDue();
        assert.ok(Date.now() >= retriedAt + WATCHABLE_MS, 'not handed out before its delay');
        assert.deepEqual(ids(due), [task!.id]);
        assertCounters(due[0]!, 1, 0);

        await s.broker.retry(due[0]!, { delayMs: 0, counts: 'death' });
        const afterDeath = await s.claimOne(task!.id);
        assertCounters(afterDeath, 1, 1);
        await s.broker.retry(afterDeath, { delayMs: 0, counts: 'attempt' });
        assertCounters(await s.claimOne(task!.id), 2, 1);
        await s.expectStats({ running: 1, enqueuedTotal: 1 });
      });

      check(
        traits.retryPlace === 'kept'
          ? 'a retried task keeps its place in its queue, ahead of younger tasks'
          : 'a retried task goes to the back of its queue, behind younger tasks',
        async (s) => {
          const [task] = await s.add({});
          const first = await s.claimOne(task!.id);
          const [younger] = await s.add({});
          await s.broker.retry(first, { delayMs: 0, counts: 'attempt' });
          const order = await s.claim({ max: 2 });
          assert.deepEqual(ids(order), ids(traits.retryPlace === 'kept' ? [task!, younger!] : [younger!, task!]));
        },
      );

      check('a retried task keeps the envelope it was enqueued with, whatever happens next', async (s) => {
        const [task] = await s.add({});
        const holder = await s.peer('holder');
        await holder.broker.retry(await holder.claimOne(task!.id), { delayMs: 20, counts: 'attempt' });
        const [due] = await holder.claimWhenDue();
        assertSameEnvelope(due!.envelope, task!, 'claimed after a retry delay: the delay is the broker\'s, not part of the envelope');
        await holder.broker.release([due!]);
        assertSameEnvelope((await holder.claimOne(task!.id)).envelope, task!, 'released after a retry');
        await s.outlive(holder);
        const returned = await s.claimOne(task!.id, { owner: s.name('successor') });
        assertSameEnvelope(returned.envelope, task!, 'back from a pool that died, after a retry');
        await s.broker.deadLetter(returned, FAILED);
        assertSameEnvelope((await s.broker.getDead(task!.id))!.envelope, task!, 'dead-lettered after a retry');

        const queue = s.name('delayed');
        const [delayed] = await s.add({ queue, runAt: Date.now() + 20 });
        const [first] = await s.claimWhenDue({ queue });
        await s.broker.retry(first!, { delayMs: 0, counts: 'death' });
        assertSameEnvelope((await s.claimOne(delayed!.id, { queue })).envelope, delayed!, 'the runAt given at enqueue survives a retry');
      });

      check('deadLetter moves a task to the dead letters with its reason and counters', async (s) => {
        const [task] = await s.add({});
        // The pool that fails it goes away before the live task comes, so nobody has room for it.
        const holder = await s.peer('holder');
        await holder.broker.retry(await holder.claimOne(task!.id), { delayMs: 0, counts: 'attempt' });
        await holder.broker.retry(await holder.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        const before = Date.now();
        const reason = failed(2);
        await holder.broker.deadLetter(await holder.claimOne(task!.id), reason);
        await holder.close();
        const [live] = await s.add({});

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

      check('a task whose workers keep dying is quarantined: its deaths counted, the crash kept as given, never run again', async (s) => {
        const [task] = await s.add({});
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        await s.broker.retry(await s.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        const last = await s.claimOne(task!.id);
        assertCounters(last, 0, 2);
        const crash: DeadReason = {
          kind: 'crashed',
          message: 'worker 4242 was killed by SIGKILL, 3 deaths in a row',
          exitCode: null,
          signal: 'SIGKILL',
          stderrTail: '<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed ✗',
          deaths: 3,
        };
        await s.broker.deadLetter(last, crash);

        const letter = await s.broker.getDead(task!.id);
        assert.ok(letter, 'quarantined in the dead letters');
        assert.deepEqual(letter.reason, crash);
        assert.deepEqual([letter.attempts, letter.deaths], [0, 3], 'the death that quarantined it is counted; no failed attempt');
        assertSameTask(letter.envelope, task!);
        assert.deepEqual(await s.broker.listDead({ queue: s.queue }), [letter]);
        assert.deepEqual(await s.claim(), [], 'never a loop');
        await s.expectStats({ dead: 1 });
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
        const [task] = await s.add({});
        const holder = await s.peer('holder');
        await holder.broker.retry(await holder.claimOne(task!.id), { delayMs: 0, counts: 'attempt' });
        await holder.broker.retry(await holder.claimOne(task!.id), { delayMs: 0, counts: 'death' });
        await holder.broker.deadLetter(await holder.claimOne(task!.id), failed(2));
        await holder.close();
        const [waiting, younger] = await s.add({}, {});

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
        await s.expectStats(s.keyWaits(3, 'in the queue', 3));

        const heads = await s.claim();
        assert.deepEqual(ids(heads), ids([a1!, b1!, free!]));
        assert.deepEqual(await s.claim(), []);
        await s.expectStats({ running: 3, ...s.keyWaits(3, 'held by a consumer') });

        await s.broker.complete(heads[0]!, 'succeeded');
        const second = await s.claim();
        assert.deepEqual(ids(second), [a2!.id]);
        await s.broker.complete(heads[1]!, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [b2!.id]);
        assert.deepEqual(await s.claim(), [], 'a3 waits for a2');
        await s.broker.complete(second[0]!, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [a3!.id]);
      });

      check(
        'the next task of a key waits across retries, releases and reclaims of its head',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check('the next task of a key waits across retries and releases of its head, and the death of the pool that held it', async (s) => {
        const key = s.name('key');
        const [head, next] = await s.add({ key }, { key });
        const holder = await s.peer('holder');

        await holder.broker.retry(await holder.claimOne(head!.id), { delayMs: WATCHABLE_MS, counts: 'attempt' });
        assert.deepEqual(await holder.claim(), [], 'the head waits for its delay and the next waits for the head');
        await s.expectStats({ delayed: 1, ...s.keyWaits(1, traits.deliveryMs > 0 ? 'held by a consumer' : 'in the queue') });
        const due = await holder.claimWhenDue();
        assert.deepEqual(ids(due), [head!.id]);

        await holder.broker.retry(due[0]!, { delayMs: 0, counts: 'death' });
        const afterDeath = await holder.claim();
        assert.deepEqual(ids(afterDeath), [head!.id]);
        await holder.broker.release(afterDeath);
        const afterRelease = await holder.claim();
        assert.deepEqual(ids(afterRelease), [head!.id]);

        const reclaimed = await s.outlive(holder);
        if (traits.holding === 'lease') assert.equal(reclaimed, 1);
        const successor = s.name('successor');
        const afterHolder = await s.claim({ owner: successor });
        assert.deepEqual(ids(afterHolder), [head!.id], 'the head comes back before the next');
        assertCounters(afterHolder[0]!, 1, 1);
        assert.deepEqual(await s.claim(), [], 'and the next still waits, for every pool');

        await s.broker.complete(afterHolder[0]!, 'succeeded');
        assert.deepEqual(ids(await s.claim({ owner: successor })), [next!.id]);
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
        await s.expectStats({ running: 1, ...s.keyWaits(1, 'in the queue') });
        await s.broker.complete(head, 'succeeded');
        assert.deepEqual(ids(await s.claim()), [third!.id]);
      });

      check(
        `tasks of one key never run at the same time across pools, in ${traits.keyOrder === 'strict' ? 'enqueue order' : 'enqueue order within each pool'}; the next runs once the head is done, dead or cancelled`,
        async (s) => {
          const key = s.name('key');
          const tasks = await s.add({ key }, { key }, { key }, { key });
          const pools = [s, await s.peer('other-pool')];
          const received = new Map<Scope, string[]>(pools.map((pool) => [pool, []]));
          const ran: string[] = [];

          /** Both pools claim for two free workers each until a task of the key comes out; exactly one may. */
          const nextOfKey = async (what: string): Promise<{ pool: Scope; delivery: Delivery }> => {
            let got: Array<{ pool: Scope; delivery: Delivery }> = [];
            await waitFor(
              async () => {
                const batches = await Promise.all(pools.map((pool) => pool.claim({ max: 2 })));
                got = batches.flatMap((batch, index) => batch.map((delivery) => ({ pool: pools[index]!, delivery })));
                return got.length > 0;
              },
              what,
              5000,
            );
            assert.deepEqual(got.length, 1, `one task of the key at a time: ${got.map((item) => item.delivery.envelope.id).join(', ')}`);
            received.get(got[0]!.pool)!.push(got[0]!.delivery.envelope.id);
            ran.push(got[0]!.delivery.envelope.id);
            return got[0]!;
          };
          const nothingElse = async (why: string) => {
            const batches = await Promise.all(pools.map((pool) => pool.claim({ max: 2 })));
            assert.deepEqual(ids(batches.flat()), [], why);
          };

          let held = await nextOfKey('the first task of the key');
          await nothingElse('the others wait while the first runs');
          await held.pool.broker.complete(held.delivery, 'succeeded');

          held = await nextOfKey('the next task, once the head is done');
          await nothingElse('the others wait while the second runs');
          await held.pool.broker.deadLetter(held.delivery, FAILED);

          held = await nextOfKey('the next task, once the head is dead');
          await nothingElse('the last waits while the third runs');
          assert.equal((await s.broker.cancel({ ids: [held.delivery.envelope.id] }))[0]?.outcome, 'stopping');
          await held.pool.broker.complete(held.delivery, 'cancelled');

          held = await nextOfKey('the last task, once the head was cancelled');
          await held.pool.broker.complete(held.delivery, 'succeeded');
          await nothingElse('all four ran');

          assert.deepEqual(sorted(ran), sorted(ids(tasks)), 'each task of the key ran once');
          if (traits.keyOrder === 'strict') assert.deepEqual(ran, ids(tasks), 'in enqueue order');
          for (const [pool, got] of received) {
            assert.deepEqual(got, ids(tasks).filter((id) => got.includes(id)), `in enqueue order within ${pool.owner}`);
          }
        },
      );
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

      check(
        'cancelling a leased task: stopping, listed for its owner, and it comes back flagged after release or reclaim',
        async (s) => {
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
        },
        onlyForLeases,
      );

      check("cancelling a held task: stopping, listed for its holder, and it comes back flagged after a release or the holder's death", async (s) => {
        const [released, orphaned] = await s.add({}, {});
        const holder = await s.peer('holder');
        const deliveries = await holder.claim({ max: 2 });
        assert.deepEqual(ids(deliveries), ids([released!, orphaned!]));
        assert.deepEqual(await s.broker.pendingCancellations(holder.owner), []);

        const results = await s.broker.cancel({ ids: [released!.id, orphaned!.id] });
        assert.deepEqual(results, [
          { id: released!.id, queue: s.queue, type: TYPE, outcome: 'stopping' },
          { id: orphaned!.id, queue: s.queue, type: TYPE, outcome: 'stopping' },
        ]);
        assert.deepEqual(sorted(await s.broker.pendingCancellations(holder.owner)), sorted(ids([released!, orphaned!])));
        assert.deepEqual(await s.broker.pendingCancellations(s.owner), []);
        await s.expectStats({ running: 2 });

        await holder.broker.release([deliveries[0]!]);
        const reclaimed = await s.outlive(holder);
        if (traits.holding === 'lease') assert.equal(reclaimed, 1, 'only the one it did not release');
        const again = await s.claim({ owner: s.name('other-pool'), max: 2 });
        assert.deepEqual(sorted(ids(again)), sorted(ids([released!, orphaned!])));
        assert.ok(
          again.every((delivery) => delivery.cancelRequested),
          'both come back flagged, to be ended as cancelled without running',
        );

        for (const delivery of again) await s.broker.complete(delivery, 'cancelled');
        await s.expectStats({});
        assert.deepEqual(
          (await s.broker.cancel({ ids: [released!.id, orphaned!.id] })).map((result) => result.outcome),
          ['finished', 'finished'],
        );
        assert.deepEqual(await s.broker.pendingCancellations(holder.owner), [], 'the dead holder has nothing left to stop');
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
        // A pool dead-letters one task and retries another for much later, then exits, leaving nothing held and no room behind.
        const [dead, retrying] = await s.add({}, {});
        const settler = await s.peer('settler');
        const settled = await settler.claim({ max: 2 });
        assert.deepEqual(ids(settled), ids([dead!, retrying!]));
        await settler.broker.deadLetter(settled[0]!, FAILED);
        await settler.broker.retry(settled[1]!, { delayMs: LONG_LEASE_MS, counts: 'attempt' });
        await settler.close();
        const [keyHead, , ready] = await s.add({ key }, { key }, {}, { runAt: Date.now() + LONG_LEASE_MS });
        await s.add({ queue: other });
        await s.claimOne(keyHead!.id);
        assert.deepEqual(await s.broker.enqueue([ready!]), [{ id: ready!.id, created: false }]);

        const expected: QueueStats = { queue: s.queue, ready: 0, blocked: 0, ...s.keyWaits(1, 'in the queue', 1), delayed: 2, running: 1, dead: 1, enqueuedTotal: 6 };
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
          // A pushing broker hears of arrivals through the consumer that a pool's first claim starts.
          if (traits.deliveryMs > 0) assert.deepEqual(await s.claim({ max: 1 }), []);
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
      check(
        'prune forgets finished tasks older than the retention; their ids can be enqueued again',
        async (s) => {
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
        },
        onlyWhenPruning,
      );

      check(
        'prune keeps at most maxRecords finished tasks, forgetting the oldest first',
        async (s) => {
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
        },
        onlyWhenPruning,
      );

      check(
        'prune forgets nothing: it returns 0, and the ids of finished tasks stay taken until they expire',
        async (s) => {
          const [succeeded, cancelled, dead] = await s.add({}, {}, {});
          await s.broker.complete(await s.claimOne(succeeded!.id), 'succeeded');
          await s.broker.complete(await s.claimOne(cancelled!.id), 'cancelled');
          await s.broker.deadLetter(await s.claimOne(dead!.id), FAILED);

          assert.equal(await s.broker.prune({ now: Date.now() + 60_000, maxAgeMs: 1000, maxRecords: 0 }), 0);
          assert.deepEqual(
            (await s.broker.enqueue([succeeded!, cancelled!, dead!])).map((result) => result.created),
            [false, false, false],
          );
          assert.ok(await s.broker.getDead(dead!.id), 'the dead letter is still there');
          await s.expectStats({ dead: 1 });
        },
        onlyWithoutPruning,
      );
    });
  });
}
