import type { Command } from 'commander';
import { openBackend, type Backend } from '../adapters/open-backend.js';

/** The options every command that touches the queues shares. */
export function withBackendOptions(command: Command): Command {
  return command.option('--data <path>', 'the embedded database: a directory or a .db file (env GAFFER_DATA; default ./.gaffer)');
}

export function backendFrom(options: { data?: string }, extra: { groupCommit?: boolean } = {}): Backend {
  return openBackend({ ...(options.data === undefined ? {} : { data: options.data }), ...extra });
}

/** Runs a command's work with the backend open, and closes it whatever happens. */
export async function withBackend<T>(options: { data?: string }, work: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = backendFrom(options);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}
