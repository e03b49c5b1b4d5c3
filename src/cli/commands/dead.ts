import type { Command } from 'commander';
import { ConfigError, DeadLetterNotFoundError } from '../../core/errors.js';
import { describeDeadReason } from '../../core/task-record.js';
import type { DeadLetterSelector } from '../../ports/broker.js';
import { retryDeadLetters } from '../../runtime/dead-letters.js';
import { withBackend, withBackendOptions } from '../backend-options.js';
import { parseCount } from '../format/durations.js';
import { textTable } from '../format/text-table.js';

interface SelectOptions {
  data?: string;
  queue?: string;
  all?: boolean;
}

function selectorFrom(ids: string[], options: SelectOptions, verb: string): DeadLetterSelector {
  const chosen = [ids.length > 0, options.queue !== undefined, options.all === true].filter(Boolean).length;
  if (chosen !== 1) throw new ConfigError(`say which dead letters to ${verb}: give their ids, or --queue <name>, or --all`);
  if (ids.length > 0) return { ids };
  return options.queue !== undefined ? { queue: options.queue } : { all: true };
}

/** Names the ids that matched no dead letter, and fails the command for them. */
function reportMissing(asked: readonly string[], found: readonly string[]): void {
  const missing = asked.filter((id) => !found.includes(id));
  if (missing.length === 0) return;
  console.error(`gaffer: no dead letter with id ${missing.map((id) => `"${id}"`).join(', ')}`);
  process.exitCode = 1;
}

export function registerDead(program: Command): void {
  const dead = program.command('dead').description("inspect and handle the dead-letter queues");

  withBackendOptions(
    dead
      .command('list')
      .description('list dead letters, newest first')
      .option('--queue <name>', 'only this queue')
      .option('--limit <n>', 'at most this many', parseCount, 50)
      .option('--offset <n>', 'skip this many', parseCount, 0)
      .option('--json', 'print JSON'),
  ).action((options: { data?: string; queue?: string; limit: number; offset: number; json?: boolean }) =>
    withBackend(options, async ({ broker }) => {
      const letters = await broker.listDead({
        limit: options.limit,
        offset: options.offset,
        ...(options.queue === undefined ? {} : { queue: options.queue }),
      });
      if (options.json) return console.log(JSON.stringify(letters, null, 2));
      if (letters.length === 0) return console.log('no dead letters');
      console.log(
        textTable(
          ['ID', 'QUEUE', 'TYPE', 'DIED', 'REASON'],
          letters.map((l) => [l.envelope.id, l.envelope.queue, l.envelope.type, new Date(l.deadAt).toISOString(), describeDeadReason(l.reason)]),
        ),
      );
    }),
  );

  withBackendOptions(dead.command('show').description('show one dead letter in full').argument('<id>').option('--json', 'print JSON')).action(
    (id: string, options: { data?: string; json?: boolean }) =>
      withBackend(options, async ({ broker }) => {
        const letter = await broker.getDead(id);
        if (!letter) throw new DeadLetterNotFoundError(id);
        if (options.json) return console.log(JSON.stringify(letter, null, 2));
        const { envelope, reason } = letter;
        const lines = [
          `id:       ${envelope.id}`,
          `queue:    ${envelope.queue}`,
          `type:     ${envelope.type}`,
          ...(envelope.key === undefined ? [] : [`key:      ${envelope.key}`]),
          `enqueued: ${new Date(envelope.enqueuedAt).toISOString()}`,
          `died:     ${new Date(letter.deadAt).toISOString()}`,
          `attempts: ${letter.attempts} failed, ${letter.deaths} worker death(s)`,
          `reason:   ${describeDeadReason(reason)}`,
          ...(reason.kind === 'failed' && reason.stack ? ['stack:', reason.stack] : []),
          ...(reason.kind === 'crashed' ? [`exit:     ${reason.signal ?? `code ${reason.exitCode}`}`, 'stderr (end):', reason.stderrTail || '(empty)'] : []),
          `payload:  ${envelope.payload}`,
        ];
        console.log(lines.join('\n'));
      }),
  );

  withBackendOptions(
    dead
      .command('retry')
      .description('send dead letters back to their queue, with fresh attempts')
      .argument('[ids...]')
      .option('--queue <name>', 'every dead letter of this queue')
      .option('--all', 'every dead letter'),
  ).action((ids: string[], options: SelectOptions) =>
    withBackend(options, async ({ broker, store }) => {
      const retried = await retryDeadLetters(broker, store, selectorFrom(ids, options, 'retry'));
      console.log(`sent ${retried.length} dead letter(s) back to their queue`);
      reportMissing(ids, retried);
    }),
  );

  withBackendOptions(
    dead
      .command('purge')
      .description('delete dead letters for good')
      .argument('[ids...]')
      .option('--queue <name>', 'every dead letter of this queue')
      .option('--all', 'every dead letter'),
  ).action((ids: string[], options: SelectOptions) =>
    withBackend(options, async ({ broker }) => {
      const purged = await broker.purgeDead(selectorFrom(ids, options, 'purge'));
      console.log(`deleted ${purged.length} dead letter(s)`);
      reportMissing(ids, purged);
    }),
  );
}
