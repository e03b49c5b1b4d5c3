/** A connection that was up and went down, or came back. */
export interface ConnectionChange {
  up: boolean;
  /** Why it went down (or is blocked), where the server or the driver said. */
  reason?: string;
  /** Up, but the server refuses to take writes until an alarm lifts (true), or takes them again (false). */
  blocked?: boolean;
}

/**
 * Turns a driver's signals (connected, disconnected: some drivers give one
 * of the latter per failed attempt) into outages: one change each way per
 * outage. Failures before the first connection are a start that waits, not
 * an outage, and are not reported.
 */
export function outageReporter(listener: (change: ConnectionChange) => void, connectedNow: boolean) {
  let state: 'never' | 'up' | 'down' = connectedNow ? 'up' : 'never';
  return {
    connected(): void {
      if (state === 'down') listener({ up: true });
      state = 'up';
    },
    disconnected(reason: string | undefined): void {
      if (state !== 'up') return;
      state = 'down';
      listener(reason ? { up: false, reason } : { up: false });
    },
  };
}
