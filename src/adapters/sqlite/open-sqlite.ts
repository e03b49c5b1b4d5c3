import fs from 'node:fs';
import { ConfigError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import { SqliteBroker } from './broker/sqlite-broker.js';
import { resolveDatabasePath } from './data-path.js';
import { SqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js';
import { SqliteSettlement } from './sqlite-settlement.js';
import { SqliteStore } from './store/sqlite-store.js';

export interface OpenSqliteOptions extends SqliteDatabaseOptions {
  clock?: Clock;
  /** Fail, instead of creating an empty database, when there is none at the path (see BackendOptions.existingData). */
  mustExist?: boolean;
}

/** The embedded broker and store over one connection to one database file, and the settlement that writes to both at once. */
export function openSqlite(data: string | undefined, options: OpenSqliteOptions = {}) {
  const file = resolveDatabasePath(data);
  if (options.mustExist && !fs.existsSync(file)) {
    throw new ConfigError(
      `no gaffer database at ${file}: nothing was enqueued or run there yet; pass the --data (or GAFFER_DATA) that your pools and producers use, or, if they use RabbitMQ, its --broker amqp://... (or GAFFER_BROKER)`,
    );
  }
  const database = SqliteDatabase.open(file, options);
  return {
    file,
    broker: new SqliteBroker(database, options.clock),
    store: new SqliteStore(database, options.clock),
    settlement: new SqliteSettlement(database, options.clock),
  };
}
