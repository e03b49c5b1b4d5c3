import { openSqlite } from '../../src/adapters/sqlite/open-sqlite.js';
import { tempDataDir } from '../support/temp-data.js';
import { brokerConformance, type BrokerTraits, type OpenedBroker } from './broker-suite.js';
import { storeConformance } from './store-suite.js';

/** The embedded broker and store, each test on a fresh database file. */
function openFresh(data = tempDataDir('conformance')) {
  const backend = openSqlite(data);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await backend.broker.close();
    await backend.store.close();
  };
  return { backend, close, data };
}

/**
 * The embedded broker is the strict one: claim reads the table itself, each
 * claimed task has a lease, stats see keys, prune forgets, a retried task
 * keeps its place (its seq), and a due time is a column, exact to the
 * millisecond.
 */
const SQLITE: BrokerTraits = {
  deliveryMs: 0,
  holding: 'lease',
  countsBlocked: true,
  prunes: true,
  keyOrder: 'strict',
  retryPlace: 'kept',
  watchableDelayMs: 100,
};

/** A broker on `data`, whose peers are other connections to the same file, as other processes would open. */
function openBroker(data?: string): OpenedBroker {
  const { backend, close, data: dir } = openFresh(data);
  const peers: OpenedBroker[] = [];
  return {
    broker: backend.broker,
    peer: async () => {
      const peer = openBroker(dir);
      peers.push(peer);
      return peer;
    },
    close: async () => {
      for (const peer of peers) await peer.close();
      await close();
    },
  };
}

brokerConformance('sqlite', SQLITE, async () => openBroker());

storeConformance('sqlite', async () => {
  const { backend, close } = openFresh();
  return { store: backend.store, close };
});
