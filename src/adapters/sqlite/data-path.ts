import path from 'node:path';

export const DEFAULT_DATA_DIR = '.gaffer';
export const DATABASE_FILE = 'gaffer.db';

/**
 * Where the embedded database lives: `--data` or GAFFER_DATA, either a
 * directory (gaffer.db goes inside) or a path to a `.db`/`.sqlite` file;
 * ./.gaffer/gaffer.db by default.
 */
export function resolveDatabasePath(data: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  // An empty value counts as unset, as most tools treat empty variables.
  const chosen = data || env.GAFFER_DATA || DEFAULT_DATA_DIR;
  const resolved = path.resolve(chosen);
  return /\.(db|sqlite3?)$/i.test(resolved) ? resolved : path.join(resolved, DATABASE_FILE);
}
