import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe } from 'node:test';
import { RabbitBroker } from '../../src/adapters/rabbitmq/rabbit-broker.js';
import { DELAY_BUCKETS_MS } from '../../src/adapters/rabbitmq/topology.js';
import type { TaskEnvelope } from '../../src/core/envelope.js';
import type { Broker, ClaimRequest } from '../../src/ports/broker.js';
import { productionServices } from '../support/services.js';
import { brokerConformance, type BrokerTraits, type OpenedBroker } from './broker-suite.js';

/**
 * The RabbitMQ broker (with its ledger in Redis), each test under a Redis
 * prefix of its own that its peers share, as pools of one deployment do.
 * After each test its queues and keys are deleted. Without RabbitMQ or Redis
 * the file is skipped with the reason, except in CI, where both are required.
 */
const services = await productionServices();

/**
 * How RabbitMQ differs from the embedded broker by design (see BrokerTraits):
 * it pushes deliveries into a buffer per owner, holds tasks by connection,
 * cannot see keys in its counts, lets finished ids expire instead of pruning
 * them, keeps a key's order within one pool only, republishes a retried task
 * at the back, and serves delays through holding queues.
 */
const RABBITMQ: BrokerTraits = {
  // Claims see new tasks within milliseconds; the first claim of an owner also declares its queue and starts a consumer,
  // and a virtual machine whose host pauses it for hundreds of milliseconds at a time needs the margin.
  deliveryMs: 500,
  holding: 'connection',
  countsBlocked: false,
  prunes: false,
  keyOrder: 'per-owner',
  retryPlace: 'back',
  // Whole in the 1 s holding queue while a case looks, then one round of the 100 ms one.
  watchableDelayMs: DELAY_BUCKETS_MS[1] + DELAY_BUCKETS_MS[0],
};

if (services.skip) {
  describe('broker conformance: rabbitmq', { skip: services.skip }, () => {});
} else {
  brokerConformance('rabbitmq', RABBITMQ, () => openOnFreshPrefix(services.amqpUrl, services.redisUrl));
}

async function openOnFreshPrefix(amqpUrl: string, redisUrl: string): Promise<OpenedBroker> {
  const prefix = `gaffer-test:conformance-${randomUUID().slice(0, 8)}:`;
  const opened: OpenedBroker[] = [];
  // The ledger lists the queues too, but a Redis restart (another test may do one) would lose them.
  const queues = new Set<string>();
  /** One broker on the prefix, through a relay of its own so that its connection alone can be cut. */
  const start = async (): Promise<OpenedBroker> => {
    const relay = await Relay.open(amqpUrl);
    const broker = new RabbitBroker({ url: relay.url, redisUrl, redisPrefix: prefix });
    let closed = false;
    const one: OpenedBroker = {
      broker: recordingQueues(broker, queues),
      peer: start,
      interrupt: () => relay.cut(),
      close: async () => {
        if (closed) return;
        closed = true;
        await broker.close();
        await relay.close();
      },
    };
    opened.push(one);
    return one;
  };
  const main = await start();
  return {
    ...main,
    close: async () => {
      // Every broker first: a live consumer would declare a deleted queue again.
      for (const one of opened) await one.close();
      await services.cleanUp(prefix, queues);
    },
  };
}

/** `broker`, noting the queue of every enqueue and claim in `queues` (each declares its queue on RabbitMQ). */
function recordingQueues(broker: Broker, queues: Set<string>): Broker {
  return new Proxy(broker, {
    get(target, property) {
      if (property === 'enqueue') {
        return (tasks: readonly TaskEnvelope[]) => {
          for (const task of tasks) queues.add(task.queue);
          return target.enqueue(tasks);
        };
      }
      if (property === 'claim') {
        return (request: ClaimRequest) => {
          queues.add(request.queue);
          return target.claim(request);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * A TCP relay in front of RabbitMQ for one broker. cut() drops its
 * connections as a network failure would: RabbitMQ sees the connection die
 * and puts back what it had unacked, and the broker, still open, reconnects
 * through the relay.
 */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  private server!: net.Server;
  /** Connections accepted so far: a new one after a cut is the broker reconnecting. */
  private accepted = 0;
  url = '';

  static async open(target: string): Promise<Relay> {
    const relay = new Relay();
    const upstream = new URL(target);
    const port = Number(upstream.port || 5672);
    relay.server = net.createServer((client) => {
      relay.accepted++;
      relay.server.emit('accepted');
      const server = net.connect(port, upstream.hostname);
      for (const socket of [client, server]) {
        // As the broker's own connection does (see AmqpSession): without it the relay would add Nagle's delays.
        socket.setNoDelay(true);
        relay.sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => relay.sockets.delete(socket));
      }
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
      client.pipe(server).pipe(client);
    });
    relay.server.listen(0, '127.0.0.1');
    await once(relay.server, 'listening');
    const relayed = new URL(target);
    relayed.hostname = '127.0.0.1';
    relayed.port = String((relay.server.address() as net.AddressInfo).port);
    relay.url = relayed.toString();
    return relay;
  }

  /**
   * Cuts the connections and resolves once the broker has noticed: when it
   * comes back to reconnect. Calls made before that would go to a connection
   * the broker still believes alive, which is not what a case means to test.
   */
  async cut(): Promise<void> {
    const before = this.accepted;
    this.drop();
    const deadline = Date.now() + 10_000;
    while (this.accepted === before) {
      if (Date.now() > deadline) throw new Error('the broker did not reconnect within 10 s of losing its connection');
      await Promise.race([once(this.server, 'accepted'), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private drop(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
