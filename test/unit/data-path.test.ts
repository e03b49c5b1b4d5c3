import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { resolveDatabasePath } from '../../src/adapters/sqlite/data-path.js';

const cwd = process.cwd();

describe('resolveDatabasePath', () => {
  const rows: Array<{ name: string; data: string | undefined; env: NodeJS.ProcessEnv; expected: string }> = [
    { name: 'default: ./.gaffer/gaffer.db', data: undefined, env: {}, expected: path.join(cwd, '.gaffer', 'gaffer.db') },
    { name: 'a relative directory: gaffer.db inside it', data: 'state', env: {}, expected: path.join(cwd, 'state', 'gaffer.db') },
    { name: 'an absolute directory: gaffer.db inside it', data: '/var/lib/gaffer', env: {}, expected: '/var/lib/gaffer/gaffer.db' },
    { name: 'a directory with a trailing slash', data: '/var/lib/gaffer/', env: {}, expected: '/var/lib/gaffer/gaffer.db' },
    { name: 'a directory whose name has a dot', data: '/srv/app.v2', env: {}, expected: '/srv/app.v2/gaffer.db' },
    { name: 'a .db file: used as is', data: '/tmp/queue.db', env: {}, expected: '/tmp/queue.db' },
    { name: 'a relative .db file: resolved', data: 'queue.db', env: {}, expected: path.join(cwd, 'queue.db') },
    { name: 'a .sqlite file', data: '/tmp/q.sqlite', env: {}, expected: '/tmp/q.sqlite' },
    { name: 'a .sqlite3 file', data: '/tmp/q.sqlite3', env: {}, expected: '/tmp/q.sqlite3' },
    { name: 'an upper-case extension', data: '/tmp/Q.DB', env: {}, expected: '/tmp/Q.DB' },
    { name: 'GAFFER_DATA when no --data is given', data: undefined, env: { GAFFER_DATA: '/data/g' }, expected: '/data/g/gaffer.db' },
    { name: 'GAFFER_DATA naming a file', data: undefined, env: { GAFFER_DATA: '/data/g.db' }, expected: '/data/g.db' },
    { name: '--data wins over GAFFER_DATA', data: '/explicit', env: { GAFFER_DATA: '/data/g' }, expected: '/explicit/gaffer.db' },
    { name: 'a path is normalized', data: '/a/b/../c/./d.db', env: {}, expected: '/a/c/d.db' },
  ];
  for (const row of rows) test(row.name, () => assert.equal(resolveDatabasePath(row.data, row.env), row.expected));
});
