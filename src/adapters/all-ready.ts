import { StorageUnavailableError } from '../core/errors.js';

/**
 * Waits for every service check; if any fails, fails once with what each
 * failed one said (the same words once), so that a user who has two servers
 * down learns of both at once. Checks may nest (a broker checks its own
 * Redis too): a nested failure's parts count one by one.
 */
export async function allReady(checks: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(checks);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? partsOf(result.reason) : []));
  if (failures.length === 0) return;
  const messages = [...new Set(failures.map((failure) => (failure instanceof Error ? failure.message : String(failure))))];
  throw new StorageUnavailableError(messages.join('; '), { cause: new AggregateError(failures) });
}

function partsOf(reason: unknown): unknown[] {
  const cause = reason instanceof StorageUnavailableError ? reason.cause : undefined;
  return cause instanceof AggregateError ? cause.errors : [reason];
}
