import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Channel, ConsumeMessage } from 'amqplib';
import { ChannelAcks } from '../../src/adapters/rabbitmq/channel-acks.js';

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

describe('ChannelAcks', () => {
  test('the oldest unsettled deliveries acked in one turn go as one multiple ack', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const messages = [1, 2, 3, 4].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    for (const message of messages.slice(0, 3)) acks.ack(message);
    assert.deepEqual(frames, [], 'nothing before the end of the turn');
    await nextTurn();
    assert.deepEqual(frames, [['ack', 3, true]]);
  });

  test('an ack behind a delivery still held goes alone, and the held one is never covered', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const messages = [1, 2, 3, 4].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    acks.ack(messages[0]!);
    acks.ack(messages[2]!);
    acks.ack(messages[3]!);
    await nextTurn();
    assert.deepEqual(frames, [
      ['ack', 1, false],
      ['ack', 3, false],
      ['ack', 4, false],
    ]);
    acks.ack(messages[1]!);
    await nextTurn();
    assert.deepEqual(frames.at(-1), ['ack', 2, false]);
  });

  test('a requeued delivery leaves at once, and later runs skip it', async () => {
    const { channel, frames } = recordingChannel();
    const acks = new ChannelAcks(channel);
    const messages = [1, 2, 3].map(delivery);
    messages.forEach((message) => acks.delivered(message));
    acks.requeue(messages[0]!);
    assert.deepEqual(frames, [['nack', 1, false]]);
    acks.ack(messages[1]!);
    acks.ack(messages[2]!);
    await nextTurn();
    assert.deepEqual(frames, [
      ['nack', 1, false],
      ['ack', 3, true],
    ]);
  });
});
