import type { ChainableCommander } from 'ioredis';
import { StorageUnavailableError } from '../../../core/errors.js';
import { redactUrl } from '../../redact-url.js';

/**
 * Turns what Redis or ioredis threw into an error that says which store and
 * what to do. Commands issued while Redis is unreachable do not fail: the
 * client holds them until it is back, so what reaches here is Redis refusing
 * a command (out of memory, loading, wrong type) or a closed store.
 */
export function storeFailure(url: string, action: string, cause: unknown): StorageUnavailableError {
  if (cause instanceof StorageUnavailableError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new StorageUnavailableError(
    `the Redis store at ${redactUrl(url)} could not ${action}: ${message}; check that this Redis is up, has memory to spare (maxmemory) and that nothing else writes under gaffer's key prefix`,
    { cause },
  );
}

export function closedStore(url: string): StorageUnavailableError {
  return new StorageUnavailableError(`the Redis store at ${redactUrl(url)} was closed; open a new one to go on`);
}

/** For a command still waiting for an unreachable Redis when its store was closed. */
export function abandonedByClose(url: string): StorageUnavailableError {
  return new StorageUnavailableError(
    `the Redis store at ${redactUrl(url)} was closed while Redis was unreachable, before it confirmed this command, which may not have been applied; bring Redis back and do it again with a new store`,
  );
}

/** Runs a pipeline and returns its results, throwing the first command's error instead of returning it. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('the Redis pipeline was discarded');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
