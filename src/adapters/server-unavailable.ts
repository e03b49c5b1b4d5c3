import { StorageUnavailableError } from '../core/errors.js';
import { redactUrl } from './redact-url.js';

/** What RabbitMQ and Redis say when they are up but will not let this user in. */
const LOGIN_REFUSED = /ACCESS[-_]REFUSED|WRONGPASS|NOAUTH|NOPERM/;

/**
 * The error for a server that did not answer, in words that say what to do:
 * a server that refused the login is there, and wants other credentials,
 * not a start.
 */
export function serverUnavailable(server: 'RabbitMQ' | 'Redis', url: string, reason: string | undefined): StorageUnavailableError {
  const option = server === 'RabbitMQ' ? '--broker / GAFFER_BROKER' : '--store / GAFFER_STORE';
  const why = reason || 'no answer';
  if (LOGIN_REFUSED.test(why)) {
    return new StorageUnavailableError(`${server} at ${redactUrl(url)} refused the login (${why}); check the user and password in ${option}`);
  }
  return new StorageUnavailableError(`${server} at ${redactUrl(url)} is unreachable (${why}); start it, or check ${option}`);
}
