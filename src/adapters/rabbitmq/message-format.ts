import type { Options } from 'amqplib';
import type { TaskEnvelope } from '../../core/envelope.js';

/**
 * A task as an AMQP message: the payload is the body, untouched; the rest of
 * the envelope and the task's counters travel in headers, so producers in
 * other languages can publish tasks with any AMQP client.
 */
export const HEADER = {
  type: 'x-gaffer-type',
  key: 'x-gaffer-key',
  group: 'x-gaffer-group',
  race: 'x-gaffer-race',
  enqueuedAt: 'x-gaffer-enqueued-at',
  runAt: 'x-gaffer-run-at',
  /** Not to be run before this time (a delayed enqueue, or a retry's backoff). */
  dueAt: 'x-gaffer-due-at',
  attempts: 'x-gaffer-attempts',
  deaths: 'x-gaffer-deaths',
  deadReason: 'x-gaffer-dead-reason',
  deadAt: 'x-gaffer-dead-at',
} as const;

export interface TaskCounters {
  attempts: number;
  deaths: number;
  dueAt: number;
}

export interface DecodedMessage {
  envelope: TaskEnvelope;
  counters: TaskCounters;
}

export function publishOptions(envelope: TaskEnvelope, counters: TaskCounters, extra: Record<string, unknown> = {}): Options.Publish {
  const headers: Record<string, unknown> = {
    [HEADER.type]: envelope.type,
    [HEADER.enqueuedAt]: envelope.enqueuedAt,
    [HEADER.attempts]: counters.attempts,
    [HEADER.deaths]: counters.deaths,
    [HEADER.dueAt]: counters.dueAt,
    ...extra,
  };
  if (envelope.key !== undefined) headers[HEADER.key] = envelope.key;
  if (envelope.group !== undefined) headers[HEADER.group] = envelope.group;
  if (envelope.race) headers[HEADER.race] = true;
  if (envelope.runAt !== undefined) headers[HEADER.runAt] = envelope.runAt;
  return { persistent: true, messageId: envelope.id, contentType: 'application/json', headers };
}

/**
 * Reads a message back. A message published without gaffer's headers (another
 * producer) still becomes a task: without an id it gets one from its
 * delivery, without a type it has the empty type, which no task module
 * defines, so it is dead-lettered as bad input instead of being lost.
 */
export function decodeMessage(
  queue: string,
  message: { content: Buffer; properties: { messageId?: unknown; headers?: Record<string, unknown> }; fields: { deliveryTag: number } },
  fallbackId: () => string,
): DecodedMessage {
  const headers = message.properties.headers ?? {};
  const id = typeof message.properties.messageId === 'string' && message.properties.messageId !== '' ? message.properties.messageId : fallbackId();
  const type = typeof headers[HEADER.type] === 'string' ? (headers[HEADER.type] as string) : '';
  const enqueuedAt = numberOr(headers[HEADER.enqueuedAt], Date.now());
  const envelope: TaskEnvelope = { id, queue, type, payload: message.content.toString('utf8'), enqueuedAt };
  if (typeof headers[HEADER.key] === 'string') envelope.key = headers[HEADER.key] as string;
  if (typeof headers[HEADER.group] === 'string') envelope.group = headers[HEADER.group] as string;
  if (headers[HEADER.race] === true) envelope.race = true;
  if (headers[HEADER.runAt] !== undefined) envelope.runAt = numberOr(headers[HEADER.runAt], enqueuedAt);
  return {
    envelope,
    counters: {
      attempts: numberOr(headers[HEADER.attempts], 0),
      deaths: numberOr(headers[HEADER.deaths], 0),
      dueAt: numberOr(headers[HEADER.dueAt], envelope.runAt ?? 0),
    },
  };
}

/** Header values come back as numbers, or as bigints / strings from other clients. */
function numberOr(value: unknown, fallback: number): number {
  const number = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : fallback;
}
