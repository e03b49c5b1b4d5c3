/**
 * Delays for retries and restarts. Pure: randomness comes in as a number in
 * [0, 1), so tests can pin it.
 */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half of the delay is fixed, half is
 * random. Retries of tasks that failed together spread out, and the delay
 * still grows with every attempt.
 *
 * `failedAttempts` counts the attempts that failed so far (1 after the first).
 */
export function retryDelayMs(failedAttempts: number, backoff: BackoffSettings, random: number): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, failedAttempts - 1));
  const half = exponential / 2;
  return Math.round(half + half * clampUnit(random));
}

/**
 * How long the pool waits before it starts another worker after
 * `crashStreak` unexpected deaths in a row: none for the first, then doubling
 * up to the cap. The streak resets once a worker stays up long enough.
 */
export function restartDelayMs(crashStreak: number, backoff: BackoffSettings): number {
  if (crashStreak <= 1) return 0;
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** (crashStreak - 2));
}

function clampUnit(value: number): number {
  if (!(value >= 0)) return 0;
  return value >= 1 ? 0.999999 : value;
}
