import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { StorageUnavailableError } from '../../core/errors.js';
import { redactUrl } from '../redact-url.js';
import { serverUnavailable } from '../server-unavailable.js';
import { ChannelAcks } from './channel-acks.js';
import { consumingChannelClosed } from './channel-close-reason.js';

/** amqplib is loaded on the first connection, not with this module: the embedded backend never connects (see connectRedis). */
const loadLazily = createRequire(import.meta.url);

export interface SessionChannels {
  /** Publishes with confirms: enqueue, retries, dead letters. */
  publisher: ConfirmChannel;
  /** Consumes. */
  consumer: Channel;
  /** Acks and requeues what `consumer` delivered. */
  acks: ChannelAcks;
  /** Counts connections: deliveries of an older generation can no longer be acked. */
  generation: number;
}

interface SessionEvents {
  up: [SessionChannels];
  down: [Error | undefined];
  /** RabbitMQ stopped reading from the connection until an alarm lifts (low on disk space or memory): publishes wait. */
  blocked: [string];
  unblocked: [];
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/**
 * One connection to RabbitMQ that comes back by itself: on loss it
 * reconnects with exponential backoff (100 ms to 5 s) and announces the new
 * channels. Everything that was unacked on the old channels is redelivered
 * by RabbitMQ; the generation tells the adapter which deliveries died.
 */
export class AmqpSession extends EventEmitter<SessionEvents> {
  private model: ChannelModel | undefined;
  private channels: SessionChannels | undefined;
  private generation = 0;
  private closed = false;
  private backoffMs = MIN_BACKOFF_MS;
  private connecting: Promise<void> | undefined;
  private lastError: Error | undefined;
  private checks: Promise<Channel> | undefined;
  /** Calls waiting in ready(): close() fails them at once, so that nothing keeps a closed session's process alive. */
  private readonly waiters = new Set<(error: Error) => void>();
  /** Ends the connect loop's wait between two attempts early (close). */
  private wakeConnectLoop: (() => void) | undefined;
  /** Why RabbitMQ blocks this connection, while it does. */
  private blockedFor: string | undefined;
  /** Calls in blockedLimit(): a set, not listeners, so that any number of enqueues can wait at once. */
  private readonly blockWatchers = new Set<{ arm(): void; disarm(): void }>();

  constructor(private readonly url: string) {
    super();
  }

  get description(): string {
    return `rabbitmq ${redactUrl(this.url)}`;
  }

  get current(): SessionChannels | undefined {
    return this.channels;
  }

  /**
   * A promise that fails once this connection has stayed blocked for
   * `limitMs` (counted from the block, or from now if it is blocked
   * already), for a caller that must not wait for an alarm to lift; stop()
   * when the wait is over.
   */
  blockedLimit(limitMs: number): { exceeded: Promise<never>; stop(): void } {
    let timer: NodeJS.Timeout | undefined;
    let fail: (error: Error) => void = () => {};
    const exceeded = new Promise<never>((_, reject) => (fail = reject));
    const arm = () => {
      timer ??= setTimeout(() => {
        fail(
          new StorageUnavailableError(
            `RabbitMQ at ${redactUrl(this.url)} has blocked publishing for ${limitMs / 1000} s (${this.blockedFor ?? 'an alarm'}): ` +
              'nothing was confirmed, though what was sent may still be enqueued once the alarm lifts; free disk space or memory on the ' +
              'RabbitMQ server (rabbitmqctl status lists its alarms), then enqueue again with the same ids: a pool runs one copy of each',
          ),
        );
      }, limitMs);
    };
    const disarm = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const watcher = { arm, disarm };
    this.blockWatchers.add(watcher);
    if (this.blockedFor !== undefined) arm();
    return {
      exceeded,
      stop: () => {
        disarm();
        this.blockWatchers.delete(watcher);
      },
    };
  }

  /** The live channels, connecting first if needed; fails after `timeoutMs` without RabbitMQ, or once the session is closed. */
  async ready(timeoutMs = 30_000): Promise<SessionChannels> {
    if (this.channels) return this.channels;
    if (this.closed) throw this.closedError();
    this.start();
    return new Promise<SessionChannels>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        this.off('up', onUp);
        this.waiters.delete(fail);
      };
      const fail = (error: Error) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => fail(serverUnavailable('RabbitMQ', this.url, this.lastError?.message)), timeoutMs);
      const onUp = (channels: SessionChannels) => {
        settle();
        resolve(channels);
      };
      this.once('up', onUp);
      this.waiters.add(fail);
    });
  }

  /**
   * A short-lived channel for checks that may fail (a failed check closes its
   * channel). A connection that just died may not have said so yet: then it
   * tries once more on the next connection.
   */
  async adminChannel(): Promise<Channel> {
    for (let attempt = 1; ; attempt++) {
      await this.ready();
      try {
        return await this.model!.createChannel();
      } catch (error) {
        if (attempt >= 2) {
          throw new StorageUnavailableError(
            `could not open a channel to RabbitMQ at ${redactUrl(this.url)} (${(error as Error).message}); check that it is running and accepts connections`,
            { cause: error },
          );
        }
        if (this.model) this.onLost(this.model, error as Error);
      }
    }
  }

  /**
   * One long-lived channel for passive checks (queue counts), opened on first
   * use and again after it closes: a check of a missing queue closes it.
   */
  checkChannel(): Promise<Channel> {
    this.checks ??= this.adminChannel().then(
      (channel) => {
        channel.on('error', () => {});
        channel.on('close', () => (this.checks = undefined));
        return channel;
      },
      (error: unknown) => {
        this.checks = undefined;
        throw error;
      },
    );
    return this.checks;
  }

  forgetCheckChannel(channel: Channel): void {
    void this.checks?.then((current) => {
      if (current === channel) this.checks = undefined;
    });
  }

  start(): void {
    if (this.closed || this.connecting || this.channels) return;
    this.connecting = this.connectLoop().finally(() => (this.connecting = undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeConnectLoop?.();
    for (const fail of [...this.waiters]) fail(this.closedError());
    const model = this.model;
    const channels = this.channels;
    this.model = undefined;
    this.channels = undefined;
    if (model && this.blockedFor !== undefined) {
      // RabbitMQ reads nothing from a blocked connection, not even its close: a close would wait as long as the alarm
      // lasts. amqplib has no forced close, so its socket goes, with an error: amqplib then ends the connection and its
      // heartbeat timer (a bare destroy left the process alive for minutes). RabbitMQ requeues what was unacked on it.
      (model as unknown as { connection: { stream: { destroy(error: Error): void } } }).connection.stream.destroy(
        new Error('closed while RabbitMQ blocked it, without waiting for its alarm to lift'),
      );
      return;
    }
    if (channels) {
      // Acks still in their window go first. Closing their channel before the connection makes RabbitMQ read them:
      // a channel's frames are handled in order, but a connection's close can overtake them.
      channels.acks.flush();
      await channels.consumer.close().catch(() => {});
    }
    await model?.close().catch(() => {});
  }

  private async connectLoop(): Promise<void> {
    while (!this.closed && !this.channels) {
      let opened: ChannelModel | undefined;
      try {
        const amqplib = loadLazily('amqplib') as typeof import('amqplib');
        // amqplib leaves Nagle's algorithm on: a lone publish, ack or confirm then waits for the server's delayed ACK
        // (40 ms here, and hundreds at times), which a queue whose tasks are a few milliseconds long cannot afford.
        const model = (opened = await amqplib.connect(this.url, { noDelay: true }));
        // Until the channels are up, a failing connection is this loop's to retry: it must neither crash the process (an 'error' nobody hears) nor stay open.
        model.on('error', () => {});
        const publisher = await model.createConfirmChannel();
        const consumer = await model.createChannel();
        if (this.closed) {
          await model.close().catch(() => {});
          return;
        }
        this.model = model;
        this.generation++;
        this.channels = { publisher, consumer, acks: new ChannelAcks(consumer), generation: this.generation };
        this.backoffMs = MIN_BACKOFF_MS;
        const lost = (error?: Error) => this.onLost(model, error);
        model.on('blocked', (reason: string) => this.setBlocked(reason));
        model.on('unblocked', () => this.setBlocked(undefined));
        model.on('close', lost);
        model.on('error', lost);
        // A connection that closes closes its channels first, then gives its reason (a server's close, such as a
        // shutdown, comes with one): a channel's close waits a microtask, so that the connection's reason is the one told.
        const channelLost = (why: () => Error) => () => queueMicrotask(() => lost(why()));
        publisher.on('close', channelLost(() => new Error('the publishing channel closed')));
        // amqplib emits a channel's error (what the server said) just before its close.
        let consumerError: Error | undefined;
        consumer.on('close', channelLost(() => consumingChannelClosed(consumerError)));
        publisher.on('error', () => {});
        consumer.on('error', (error: Error) => (consumerError = error));
        this.emit('up', this.channels);
      } catch (error) {
        this.lastError = error as Error;
        if (opened && this.model !== opened) await opened.close().catch(() => {});
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.backoffMs);
          this.wakeConnectLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeConnectLoop = undefined;
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      }
    }
  }

  private setBlocked(reason: string | undefined): void {
    if (reason === this.blockedFor) return;
    this.blockedFor = reason;
    for (const watcher of this.blockWatchers) {
      if (reason === undefined) watcher.disarm();
      else watcher.arm();
    }
    if (reason === undefined) this.emit('unblocked');
    else this.emit('blocked', reason);
  }

  private closedError(): StorageUnavailableError {
    return new StorageUnavailableError(`the connection to RabbitMQ at ${redactUrl(this.url)} was closed by this process; nothing more can be sent on it`);
  }

  private onLost(model: ChannelModel, error?: Error): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.channels = undefined;
    this.checks = undefined;
    this.lastError = error;
    // A new connection starts unblocked; RabbitMQ says again if the alarm still holds.
    this.setBlocked(undefined);
    void model.close().catch(() => {});
    this.emit('down', error);
    this.start();
  }
}
