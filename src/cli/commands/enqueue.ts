import type { Command } from 'commander';
import { PayloadInvalidError } from '../../core/errors.js';
import { GafferClient } from '../../client/client.js';
import { resultOf, waitForFinal } from '../../client/task-handle.js';
import { backendFrom, withBackendOptions } from '../backend-options.js';
import { parseDuration } from '../format/durations.js';

interface EnqueueCliOptions {
  data?: string;
  queue?: string;
  key?: string;
  id?: string;
  group?: string;
  delay?: number;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
}

export function registerEnqueue(program: Command): void {
  withBackendOptions(
    program
      .command('enqueue')
      .description('enqueue one task, and optionally wait for its result')
      .argument('<type>', 'the task type')
      .argument('[payload]', 'the payload, as JSON', '{}')
      .option('--queue <name>', 'the queue (default: default)')
      .option('--key <key>', 'ordering key: tasks of one key run one at a time, in order')
      .option('--id <id>', 'task id; enqueueing an existing id again does nothing')
      .option('--group <group>', 'group, to cancel tasks together')
      .option('--delay <duration>', 'run no earlier than this from now', parseDuration)
      .option('--wait', 'wait for the result and print it')
      .option('--timeout <duration>', 'with --wait: stop waiting after this long', parseDuration)
      .option('--json', 'print JSON'),
  ).action((type: string, payloadText: string, options: EnqueueCliOptions) => runEnqueue(type, payloadText, options));
}

async function runEnqueue(type: string, payloadText: string, options: EnqueueCliOptions): Promise<void> {
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch (error) {
    throw new PayloadInvalidError(`the payload is not JSON (${(error as Error).message}); quote it for your shell, e.g. '{"a":1}'`);
  }
  const backend = backendFrom(options);
  const client = new GafferClient({ backend });
  try {
    const handle = await client.enqueue(type, payload, {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.id === undefined ? {} : { id: options.id }),
      ...(options.group === undefined ? {} : { group: options.group }),
      ...(options.delay === undefined ? {} : { delayMs: options.delay }),
    });
    if (!options.wait) {
      if (options.json) console.log(JSON.stringify({ id: handle.id, created: handle.created }));
      else console.log(handle.created ? `enqueued ${handle.id}` : `task ${handle.id} exists already; nothing enqueued`);
      return;
    }
    const record = await waitForFinal(backend.store, handle.id, options.timeout === undefined ? {} : { timeoutMs: options.timeout });
    const outcome = resultOf(record);
    if (options.json) console.log(JSON.stringify(record));
    else if (outcome.ok) console.log(JSON.stringify(outcome.value, null, 2));
    if (!outcome.ok) {
      if (!options.json) throw outcome.error;
      process.exitCode = 1;
    }
  } finally {
    await client.close();
    await backend.close();
  }
}
