/** A call that took longer than the caller could wait for it. */
export class CallTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not answer within ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
  }
}

/**
 * Settles with `work`, or rejects with CallTimeoutError after `timeoutMs`.
 * The work itself goes on: a probe or a scrape must answer in time even when
 * the backend hangs, not cancel what the backend is doing.
 */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    // Not unref'd: someone waits for this answer, so the process must live to give it.
    timer = setTimeout(() => reject(new CallTimeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * An error's message fit for a response body: credentials in URLs masked
 * (drivers put connection URLs in their errors), and bounded in length.
 */
export function safeErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const masked = text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):\S*@/gi, '$1$2:***@');
  return masked.length > 300 ? `${masked.slice(0, 300)}…` : masked;
}
