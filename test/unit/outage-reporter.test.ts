import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outageReporter, type ConnectionChange } from '../../src/adapters/outage-reporter.js';

test('failed attempts before the first connection are not an outage', () => {
  const changes: ConnectionChange[] = [];
  const outages = outageReporter((change) => changes.push(change), false);
  outages.disconnected('connect ECONNREFUSED');
  outages.disconnected('connect ECONNREFUSED');
  outages.connected();
  assert.deepEqual(changes, []);
});

test('an outage is reported once each way, however many attempts fail in between', () => {
  const changes: ConnectionChange[] = [];
  const outages = outageReporter((change) => changes.push(change), true);
  outages.disconnected('read ECONNRESET');
  outages.disconnected('connect ECONNREFUSED');
  outages.disconnected(undefined);
  outages.connected();
  outages.connected();
  outages.disconnected(undefined);
  assert.deepEqual(changes, [{ up: false, reason: 'read ECONNRESET' }, { up: true }, { up: false }]);
});
