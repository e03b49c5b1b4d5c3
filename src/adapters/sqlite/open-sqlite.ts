import type { Clock } from '../../ports/clock.js';
import { SqliteBroker } from './broker/sqlite-broker.js';
import { resolveDatabasePath } from './data-path.js';
import { SqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js';
import { SqliteSettlement } from './sqlite-settlement.js';
import { SqliteStore } from './store/sqlite-store.js';

/** The embedded broker and store over one connection to one database file, and the settlement that writes to both at once. */
export function openSqlite(data: string | undefined, options: SqliteDatabaseOptions & { clock?: Clock } = {}) {
  const file = resolveDatabasePath(data);
  const database = SqliteDatabase.open(file, options);
  return {
    file,
    broker: new SqliteBroker(database, options.clock),
    store: new SqliteStore(database, options.clock),
    settlement: new SqliteSettlement(database, options.clock),
  };
}
