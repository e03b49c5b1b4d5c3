import { openSqlite } from '../../src/adapters/sqlite/open-sqlite.js';
import { tempDataDir } from '../support/temp-data.js';
import { brokerConformance } from './broker-suite.js';
import { storeConformance } from './store-suite.js';

/** The embedded broker and store, each test on a fresh database file. */
function openFresh() {
  const backend = openSqlite(tempDataDir('conformance'));
  const close = async () => {
    await backend.broker.close();
    await backend.store.close();
  };
  return { backend, close };
}

brokerConformance('sqlite', async () => {
  const { backend, close } = openFresh();
  return { broker: backend.broker, close };
});

storeConformance('sqlite', async () => {
  const { backend, close } = openFresh();
  return { store: backend.store, close };
});
