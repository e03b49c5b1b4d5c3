import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumingChannelClosed } from '../../src/adapters/rabbitmq/channel-close-reason.js';

/** What amqplib reports (its closeMessage format) when RabbitMQ 3.10 closes a channel for its consumer timeout, set to 5 s. */
const CONSUMER_TIMEOUT = Object.assign(
  new Error(
    'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - delivery acknowledgement on channel 2 timed out. ' +
      'Timeout value used: 5000 ms. This timeout value can be configured, see consumers doc guide to learn more"',
  ),
  { code: 406 },
);

test("a consumer timeout is explained: the task's length, the timeout, and the setting to raise", () => {
  const reason = consumingChannelClosed(CONSUMER_TIMEOUT).message;
  assert.match(reason, /a task ran longer than its consumer_timeout of 5000 ms/);
  assert.match(reason, /set consumer_timeout in rabbitmq\.conf above the longest time limit of your tasks/);
});

test("any other close keeps the server's words", () => {
  const other = Object.assign(new Error('Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue \'q\'"'), { code: 404 });
  assert.equal(consumingChannelClosed(other).message, `the consuming channel closed: ${other.message}`);
  assert.equal(consumingChannelClosed(undefined).message, 'the consuming channel closed');
});
