import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ConsumeMessage } from 'amqplib';
import { ACK_BATCH, ChannelAcks } from '../../src/adapters/rabbitmq/channel-acks.js';

/** The frames ChannelAcks sends, as [kind, tag, multiple]: what RabbitMQ would receive. */
function recordingChannel() {
  const frames: Array<[string, number, boolean]> = [];
  const channel = {
    ack: (message: ConsumeMessage, allUpTo = false) => frames.push(['ack', message.fields.deliveryTag, allUpTo]),
    nack: (message: ConsumeMessage) => frames.push(['nack', message.fields.deliveryTag, false]),
  } as unknown as Channel;
  return { channel, frames };
}

const delivery = (tag: number) => ({ fields: { deliveryTag: tag } }) as ConsumeMessage;

/** A window short enough for the cases that are not about it, and a wait that outlasts it. */
const SHORT_WINDOW_MS = 5;
const PAST_WINDOW_MS = 30;

describe('ChannelAcks', () => {
  test('acks wait out the window, and the oldest unsettled deliveries acked within it go as one multiple ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel, 30);
    const messages = [1, 2, 3, 4].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    acks.ack(messages[0]!);
    await nextTurn();
    acks.ack(messages[1]!);
    acks.ack(messages[2]!);
    assert.equal(acks.pending, 3);
    await nextTurn();
    assert.deepEqual(frames, [], 'nothing before the window ends');
    await sleep(60);
    assert.deepEqual(frames, [['ack', 3, true]]);
    assert.equal(acks.pending, 0);
  });

  test('a full batch goes at the end of the turn, and flush() sends what waits at once', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel, 60_000);
    const messages = Array.from({ length: ACK_BATCH + 1 }, (_, index) => delivery(index + 1));
    messages.forEach((message) => acks.delivered(message));
    for (const message of messages.slice(0, ACK_BATCH)) acks.ack(message);
    await nextTurn();
    assert.deepEqual(frames, [['ack', ACK_BATCH, true]]);
    acks.ack(messages[ACK_BATCH]!);
    acks.flush();
    assert.deepEqual(frames.at(-1), ['ack', ACK_BATCH + 1, false]);
  });

  test('a full batch behind a delivery still held waits for it within the window, then all go as one multiple ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel, 60_000);
    // Two workers' read-ahead: the second half finishes first.
    const messages = Array.from({ length: 2 * ACK_BATCH }, (_, index) => delivery(index + 1));
    messages.forEach((message) => acks.delivered(message));
    for (const message of messages.slice(ACK_BATCH)) acks.ack(message);
    await nextTurn();
    assert.deepEqual(frames, [], 'no ack may cover the held deliveries, and none goes alone yet');
    assert.equal(acks.pending, ACK_BATCH);
    for (const message of messages.slice(0, ACK_BATCH)) acks.ack(message);
    await nextTurn();
    assert.deepEqual(frames, [['ack', 2 * ACK_BATCH, true]]);
    assert.equal(acks.pending, 0);
  });

  test('an ack behind a delivery still held goes alone, and the held one is never covered', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel, SHORT_WINDOW_MS);
    const messages = [1, 2, 3, 4].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    acks.ack(messages[0]!);
    acks.ack(messages[2]!);
    acks.ack(messages[3]!);
    await sleep(PAST_WINDOW_MS);
    assert.deepEqual(frames, [
      ['ack', 1, false],
      ['ack', 3, false],
      ['ack', 4, false],
    ]);
    acks.ack(messages[1]!);
    await sleep(PAST_WINDOW_MS);
    assert.deepEqual(frames.at(-1), ['ack', 2, false]);
  });

  test('a requeued delivery leaves at once, and later runs skip it', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel, SHORT_WINDOW_MS);
    const messages = [1, 2, 3].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    acks.requeue(messages[0]!);
    assert.deepEqual(frames, [['nack', 1, false]]);
    acks.ack(messages[1]!);
    acks.ack(messages[2]!);
    await sleep(PAST_WINDOW_MS);
    assert.deepEqual(frames, [
      ['nack', 1, false],
      ['ack', 3, true],
    ]);
  });
});
