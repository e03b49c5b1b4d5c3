import { ConfigError } from '../core/errors.js';

export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:7070';

export interface BindAddress {
  host: string;
  port: number;
}

/** "host:port", "[::1]:port" or ":port" (loopback) → host and port. */
export function parseBindAddress(text: string): BindAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new ConfigError(`"${text}" is not an address to serve on; write host:port, e.g. 127.0.0.1:7070`);
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Serving beyond this machine without a token would let anyone enqueue and purge: refused. */
export function assertSafeToBind(address: BindAddress, token: string | undefined): void {
  if (!isLoopback(address.host) && !token) {
    throw new ConfigError(
      `refusing to serve the HTTP API on ${address.host}, beyond this machine, without a token: set GAFFER_TOKEN, or serve on 127.0.0.1`,
    );
  }
}
