import { z } from 'zod';
import { enqueueOptionsSchema, queueNameSchema } from '../../../core/envelope.js';
import { describedPattern } from './validation-messages.js';

/** The pattern a core zod schema enforces, so the HTTP schemas and the client never disagree on names. */
function patternOf(schema: z.ZodType): string {
  const pattern = (z.toJSONSchema(schema) as { pattern?: string }).pattern;
  if (pattern === undefined) throw new Error('this schema has no pattern');
  return pattern;
}

export const queueName = {
  type: 'string',
  pattern: describedPattern(
    patternOf(queueNameSchema),
    'a queue name is a letter or digit, then letters, digits, ".", "_", ":" or "-" (at most 128)',
  ),
} as const;

/** Task ids, group names: what producers may choose as ids. */
export const textId = {
  type: 'string',
  pattern: describedPattern(patternOf(enqueueOptionsSchema.shape.id.unwrap()), 'an id is 1 to 200 printable characters without spaces'),
} as const;

/** Pool ids are made by the pools (hostname, pid, random part); only their length is bounded. */
export const poolId = { type: 'string', minLength: 1, maxLength: 300 } as const;

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** `offset` and `limit` of a list; a page never holds more than MAX_PAGE items. */
export function pageQuery(prefix = ''): Record<string, { type: 'integer'; minimum: number; maximum?: number; default: number }> {
  return {
    [prefix ? `${prefix}Offset` : 'offset']: { type: 'integer', minimum: 0, default: 0 },
    [prefix ? `${prefix}Limit` : 'limit']: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
  };
}

/**
 * A body of exactly these fields: unknown ones are refused by name, not
 * silently dropped (fastify's ajv would drop them under additionalProperties:
 * false), so a misspelt option never goes unnoticed.
 */
export function closedObject<const P extends Record<string, object>>(properties: P, required: ReadonlyArray<keyof P & string> = []) {
  return { type: 'object', properties, required, propertyNames: { enum: Object.keys(properties) } } as const;
}

export const noContent = { 204: { type: 'null', description: 'done; no body' } } as const;

export interface Page {
  offset: number;
  limit: number;
}

export function pageOf<T>(items: readonly T[], page: Page): { total: number; offset: number; limit: number; items: T[] } {
  return { total: items.length, offset: page.offset, limit: page.limit, items: items.slice(page.offset, page.offset + page.limit) };
}

/** The wrapper of a paginated list in a response. */
export function pageResponse(item: object) {
  return {
    type: 'object',
    required: ['total', 'offset', 'limit', 'items'],
    properties: {
      total: { type: 'integer' },
      offset: { type: 'integer' },
      limit: { type: 'integer' },
      items: { type: 'array', items: item },
    },
  } as const;
}
