import type { Redis } from 'ioredis';

/**
 * Ends a client: politely (replies to what was sent still arrive) when it is
 * connected; at once when it is not, since QUIT would wait in the offline
 * queue for a Redis that may never come back. Commands still waiting then
 * fail with "Connection is closed", which their callers see.
 */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // The connection went away while quitting; disconnecting below is all that is left.
    }
  }
  client.disconnect();
}
