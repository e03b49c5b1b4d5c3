import type { Command } from 'commander';
import type { Backend } from '../../adapters/open-backend.js';
import type { EnqueueOptions } from '../../core/envelope.js';
import { ConfigError, PayloadInvalidError } from '../../core/errors.js';
import type { TaskRecord } from '../../core/task-record.js';
import { GafferClient } from '../../client/client.js';
import { resultOf, waitForFinal } from '../../client/task-handle.js';
import { COMMAND_CONNECT_TIMEOUT_MS, openReadyBackend, withBackendOptions, type BackendCliOptions } from '../backend-options.js';
import { parseDuration } from '../format/durations.js';
import { barProgress, lineProgress, silentProgress, type Progress } from '../format/progress.js';
import { startSpinner } from '../format/spinner.js';
import { describeCounts, enqueueTaskFile } from '../task-file/enqueue-task-file.js';
import { openLineSource } from '../task-file/read-lines.js';

interface EnqueueCliOptions extends BackendCliOptions {
  queue?: string;
  key?: string;
  id?: string;
  group?: string;
  delay?: number;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
  file?: string;
}

/** How often the spinner looks up the task's state (queued, running, retrying). */
const STATE_POLL_MS = 500;

export function registerEnqueue(program: Command): void {
  withBackendOptions(
    program
      .command('enqueue')
      .description('enqueue one task, and optionally wait for its result; or every task of a file with --file')
      .argument('[type]', 'the task type')
      .argument('[payload]', 'the payload, as JSON', '{}')
      .option('--queue <name>', 'the queue (default: default)')
      .option('--key <key>', 'ordering key: tasks of one key run one at a time, in order')
      .option('--id <id>', 'task id; enqueueing an existing id again does nothing')
      .option('--group <group>', 'group, to cancel tasks together')
      .option('--delay <duration>', 'run no earlier than this from now', parseDuration)
      .option('--wait', 'wait for the result and print it')
      .option('--timeout <duration>', 'with --wait: stop waiting after this long', parseDuration)
      .option(
        '--file <tasks.jsonl>',
        'enqueue every line of this file (- for stdin), each {"type": ..., "payload": ...}; --queue, --key, --group and --delay apply to lines without their own',
      )
      .option('--json', 'print JSON'),
  ).action((type: string | undefined, payloadText: string, options: EnqueueCliOptions) =>
    options.file === undefined ? runEnqueue(type, payloadText, options) : runEnqueueFile(type, options.file, options),
  );
}

function optionsFrom(options: EnqueueCliOptions): EnqueueOptions {
  return {
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    ...(options.key === undefined ? {} : { key: options.key }),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.group === undefined ? {} : { group: options.group }),
    ...(options.delay === undefined ? {} : { delayMs: options.delay }),
  };
}

async function runEnqueue(type: string | undefined, payloadText: string, options: EnqueueCliOptions): Promise<void> {
  if (type === undefined) throw new ConfigError('give a task type (gaffer enqueue <type> [payload]), or a file of tasks with --file <tasks.jsonl>');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch (error) {
    throw new PayloadInvalidError(`the payload is not JSON (${(error as Error).message}); quote it for your shell, e.g. '{"a":1}'`);
  }
  const backend = await openReadyBackend(options, COMMAND_CONNECT_TIMEOUT_MS);
  const client = new GafferClient({ backend });
  try {
    const handle = await client.enqueue(type, payload, optionsFrom(options));
    if (!options.wait) {
      if (options.json) console.log(JSON.stringify({ id: handle.id, created: handle.created }));
      else console.log(handle.created ? `enqueued ${handle.id}` : `task ${handle.id} exists already; nothing enqueued`);
      return;
    }
    const record = await waitShowingProgress(backend, handle.id, options.timeout);
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

/**
 * Waits for the task's outcome, with a spinner, its state and the time elapsed
 * on a terminal (stderr, so the result on stdout stays clean). Ctrl-C stops
 * the waiting, not the task: it says so, since a user may think otherwise.
 */
async function waitShowingProgress(backend: Backend, id: string, timeoutMs: number | undefined): Promise<TaskRecord> {
  const spinner = startSpinner(process.stderr, `task ${id}`);
  const poll = process.stderr.isTTY
    ? setInterval(() => {
        backend.store
          .getTasks([id])
          .then(([record]) => record && spinner.setLabel(`task ${id}: ${describeState(record)}`))
          .catch(() => {}); // the spinner's label is a nicety; the wait itself reports failures
      }, STATE_POLL_MS)
    : undefined;
  const onInterrupt = () => {
    spinner.stop();
    process.stderr.write(`gaffer: stopped waiting; task ${id} was not cancelled and goes on\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await waitForFinal(backend.store, id, timeoutMs === undefined ? {} : { timeoutMs });
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onInterrupt);
    spinner.stop();
  }
}

function describeState(record: TaskRecord): string {
  switch (record.state) {
    case 'running':
      return record.workerPid === undefined ? 'running' : `running in worker ${record.workerPid}`;
    case 'retrying':
      return 'an attempt failed; retrying after its backoff';
    default:
      return record.state;
  }
}

async function runEnqueueFile(type: string | undefined, file: string, options: EnqueueCliOptions): Promise<void> {
  if (type !== undefined) throw new ConfigError('--file reads the tasks, their types and payloads from the file: give no task type or payload with it');
  if (options.id !== undefined) throw new ConfigError('--id names one task; with --file, give each line its own "id"');
  if (options.wait || options.timeout !== undefined) throw new ConfigError('--wait follows one task; --file enqueues many: follow them with gaffer status');
  const source = openLineSource(file);
  const backend = await openReadyBackend(options, COMMAND_CONNECT_TIMEOUT_MS);
  const client = new GafferClient({ backend });
  // A bar on a terminal; plain lines in a pipe or a log, except where stdout carries JSON.
  const progress: Progress = process.stderr.isTTY ? barProgress(process.stderr) : options.json ? silentProgress : lineProgress(process.stdout);
  const startedAt = Date.now();
  try {
    const summary = await enqueueTaskFile(client, source, optionsFrom(options), progress);
    progress.finish();
    if (options.json) console.log(JSON.stringify(summary));
    else if (summary.tasks === 0) console.log(`${summary.file}: no tasks in it; nothing enqueued`);
    else console.log(`${summary.file}: ${describeCounts(summary)}, in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
  } finally {
    progress.finish();
    await client.close();
    await backend.close();
  }
}
