import type { Broker } from '../ports/broker.js';
import type { Store } from '../ports/store.js';
import { openSqlite } from './sqlite/open-sqlite.js';

export interface BackendOptions {
  /** The embedded database: a directory or a .db file (GAFFER_DATA, ./.gaffer by default). */
  data?: string;
  /**
   * For the process that runs a pool manager: writes of the same few
   * milliseconds share one commit. Leave it off in producers (see GroupCommit).
   */
  groupCommit?: boolean;
}

/** The group-commit window of a pool manager's process. */
export const POOL_COMMIT_WINDOW_MS = 2;

export interface Backend {
  broker: Broker;
  store: Store;
  /** Where the data lives, without credentials, for logs and status. */
  description: string;
  close(): Promise<void>;
}

/** Opens the broker and store a process talks to. */
export function openBackend(options: BackendOptions = {}): Backend {
  const { file, broker, store } = openSqlite(options.data, options.groupCommit ? { commitWindowMs: POOL_COMMIT_WINDOW_MS } : {});
  return {
    broker,
    store,
    description: `sqlite ${file}`,
    close: async () => {
      await broker.close();
      await store.close();
    },
  };
}
