import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './http-errors.js';

/**
 * Every request that changes state needs `Authorization: Bearer <token>`
 * (GAFFER_TOKEN). Without a configured token, writes are refused: reading is
 * open on loopback, changing things never is.
 */
export function requireToken(token: string | undefined) {
  const expected = token === undefined ? undefined : Buffer.from(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    if (!expected) {
      await reply.status(403).send(errorBody('writes_disabled', 'this server takes no writes: start it with GAFFER_TOKEN set, and send that token'));
      return;
    }
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const givenBytes = given === undefined ? undefined : Buffer.from(given);
    // Bytes, not characters: timingSafeEqual throws on buffers of different lengths.
    const ok = givenBytes !== undefined && givenBytes.length === expected.length && timingSafeEqual(givenBytes, expected);
    if (!ok) {
      await reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody('unauthorized', 'a write needs the header "Authorization: Bearer <token>" with the server\'s GAFFER_TOKEN'));
    }
  };
}
