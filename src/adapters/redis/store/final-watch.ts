import type { Redis } from 'ioredis';
import { isFinalState, type TaskRecord } from '../../../core/task-record.js';
import { closeClient } from '../close-client.js';

type Listener = (record: TaskRecord) => void;

interface Watcher {
  readonly pending: Set<string>;
  readonly listener: Listener;
  stopped: boolean;
}

/** How long to wait before reading again after Redis refused a read or a subscribe (e.g. LOADING). */
const RETRY_MS = 1000;

export interface FinalWatchOptions {
  channel: string;
  /** A new client for the subscription: a subscribed connection can run nothing else. */
  connect(): Redis;
  read(ids: readonly string[]): Promise<TaskRecord[]>;
}

/**
 * The waiters of watchFinal. They share one subscription to the channel on
 * which the task scripts publish the ids of records that became final, made
 * on the first watch (processes that never wait hold no second connection).
 *
 * Nothing polls. A watcher first subscribes, and only once Redis confirmed
 * the subscription reads the ids that are final already: a record that
 * becomes final before the read is seen by the read, one that becomes final
 * after is announced on the channel. Publishes while the subscriber was
 * disconnected are lost, so after each reconnection everything watched is
 * read again. Each id is delivered once per watcher whichever way it comes.
 */
export class FinalWatch {
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> | undefined;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly toRead = new Set<string>();
  private readScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: FinalWatchOptions) {}

  watch(ids: readonly string[], listener: Listener): () => void {
    const watcher: Watcher = { pending: new Set(ids), listener, stopped: false };
    const stop = () => this.stop(watcher);
    if (this.closed || watcher.pending.size === 0) {
      watcher.stopped = true;
      return stop;
    }
    for (const id of watcher.pending) {
      let set = this.watchers.get(id);
      if (!set) this.watchers.set(id, (set = new Set()));
      set.add(watcher);
    }
    this.subscribe().then(
      () => this.read(watcher.pending),
      () => this.retrySoon(),
    );
    return stop;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const set of this.watchers.values()) for (const watcher of set) watcher.stopped = true;
    this.watchers.clear();
    if (this.subscriber) await closeClient(this.subscriber);
  }

  private stop(watcher: Watcher): void {
    watcher.stopped = true;
    for (const id of watcher.pending) {
      const set = this.watchers.get(id);
      set?.delete(watcher);
      if (set?.size === 0) this.watchers.delete(id);
    }
  }

  /** Resolves once Redis confirmed the subscription; a failed attempt is made again by the next caller. */
  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      this.subscriber ??= this.connectSubscriber();
      const subscribed = this.subscriber.subscribe(this.options.channel).then(() => undefined);
      subscribed.catch(() => {
        if (this.subscribed === subscribed) this.subscribed = undefined;
      });
      this.subscribed = subscribed;
    }
    return this.subscribed;
  }

  private connectSubscriber(): Redis {
    const subscriber = this.options.connect();
    let lost = false;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.options.channel) this.read(announcedIds(message));
    });
    subscriber.on('close', () => {
      lost = true;
    });
    subscriber.on('ready', () => {
      if (!lost || this.closed) return;
      lost = false;
      // ioredis subscribes again by itself; subscribing here too resolves once that is in effect.
      this.subscribed = undefined;
      this.subscribe().then(
        () => this.read(this.watchers.keys()),
        () => this.retrySoon(),
      );
    });
    return subscriber;
  }

  /** Reads the records of `ids` that someone waits for, batching the ids of the same turn of the event loop. */
  private read(ids: Iterable<string>): void {
    for (const id of ids) if (this.watchers.has(id)) this.toRead.add(id);
    if (this.readScheduled || this.toRead.size === 0) return;
    this.readScheduled = true;
    setImmediate(() => {
      this.readScheduled = false;
      const batch = [...this.toRead].filter((id) => this.watchers.has(id));
      this.toRead.clear();
      if (batch.length === 0 || this.closed) return;
      this.options.read(batch).then(
        (records) => {
          for (const record of records) if (isFinalState(record.state)) this.deliver(record);
        },
        () => this.retrySoon(),
      );
    });
  }

  private deliver(record: TaskRecord): void {
    const set = this.watchers.get(record.id);
    if (!set) return;
    for (const watcher of [...set]) {
      if (watcher.stopped || !watcher.pending.delete(record.id)) continue;
      set.delete(watcher);
      if (watcher.pending.size === 0) watcher.stopped = true;
      try {
        watcher.listener(record);
      } catch (error) {
        // One failing listener must not keep the record from the others; the error still surfaces.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    // A listener may have stopped and watched again, replacing the set: only an emptied current set goes.
    if (set.size === 0 && this.watchers.get(record.id) === set) this.watchers.delete(record.id);
  }

  /** After a refused read or subscribe: subscribe if need be, then read everything watched. */
  private retrySoon(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.subscribe().then(
        () => this.read(this.watchers.keys()),
        () => this.retrySoon(),
      );
    }, RETRY_MS);
    this.retryTimer.unref();
  }
}

/**
 * The ids in one message of the final channel: a JSON array, one message per
 * script call (see SETTLE_RECORD's flushFinal). A message that is no such
 * array is one bare id, as pools of earlier versions announce them, so that
 * a deployment upgraded one process at a time keeps waking its waiters.
 */
function announcedIds(message: string): string[] {
  try {
    const ids: unknown = JSON.parse(message);
    if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return ids;
  } catch {
    // Not JSON: a bare id.
  }
  return [message];
}
