import type { ChainableCommander, Redis } from 'ioredis';

export type ScriptArg = string | number;

/**
 * A Lua script, registered on a client with ioredis' defineCommand: ioredis
 * sends EVAL the first time on each connection and EVALSHA after, so a
 * restarted Redis (with an empty script cache) needs nothing from us.
 */
export interface RedisScript {
  /** The command name on the client; prefixed so it never shadows a Redis command. */
  readonly name: string;
  /** How many keys it takes; 'variable': as many as the call passes (the count goes first). */
  readonly keys: number | 'variable';
  readonly lua: string;
}

export function installScripts(client: Redis, scripts: readonly RedisScript[]): void {
  for (const script of scripts) client.defineCommand(script.name, script.keys === 'variable' ? { lua: script.lua } : { numberOfKeys: script.keys, lua: script.lua });
}

export function runScript(client: Redis, script: RedisScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
  return invoke(client, script, keys, args) as Promise<unknown>;
}

/** Adds a script call to a pipeline; its result comes with the pipeline's. */
export function queueScript(pipeline: ChainableCommander, script: RedisScript, keys: readonly string[], args: readonly ScriptArg[]): void {
  invoke(pipeline, script, keys, args);
}

function invoke(target: Redis | ChainableCommander, script: RedisScript, keys: readonly string[], args: readonly ScriptArg[]): unknown {
  if (script.keys !== 'variable' && keys.length !== script.keys) throw new Error(`${script.name} takes ${script.keys} keys, got ${keys.length}`);
  const command = (target as unknown as Record<string, unknown>)[script.name];
  if (typeof command !== 'function') {
    throw new Error(`the Lua script ${script.name} is not installed on this Redis client; call installScripts on the client first`);
  }
  const keyArgs = script.keys === 'variable' ? [keys.length, ...keys] : keys;
  return (command as (...args: ScriptArg[]) => unknown).call(target, ...keyArgs, ...args);
}
