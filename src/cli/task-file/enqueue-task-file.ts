import type { GafferClient } from '../../client/client.js';
import type { EnqueueOptions } from '../../core/envelope.js';
import { GafferError, type ErrorCode } from '../../core/errors.js';
import type { Progress } from '../format/progress.js';
import { parseTaskLine, TaskLineError, type TaskLine } from './parse-task-line.js';
import type { LineSource } from './read-lines.js';

/** One write per this many tasks: few round trips, and a retry after a failure repeats little. */
const BATCH_TASKS = 500;
/** ...or per this many payload bytes, so a file of big payloads does not sit in memory. */
const BATCH_BYTES = 4 * 1024 * 1024;

export interface TaskFileSummary {
  file: string;
  tasks: number;
  /** Enqueued by this run. */
  created: number;
  /** Their id was taken already: nothing enqueued for them (enqueue with an id is idempotent). */
  existing: number;
}

interface Batch {
  tasks: TaskLine[];
  bytes: number;
  firstLine: number;
  lastLine: number;
}

/**
 * Enqueues every task of a JSON Lines source, in batches, in file order.
 * It stops at the first bad line, after enqueueing every task before it, and
 * says so: the error names the line, the reason, and what was enqueued.
 */
export async function enqueueTaskFile(
  client: GafferClient,
  source: LineSource,
  defaults: EnqueueOptions,
  progress: Progress,
): Promise<TaskFileSummary> {
  const summary: TaskFileSummary = { file: source.name, tasks: 0, created: 0, existing: 0 };
  let batch: Batch = { tasks: [], bytes: 0, firstLine: 0, lastLine: 0 };

  const flush = async () => {
    if (batch.tasks.length === 0) return;
    const sent = batch;
    batch = { tasks: [], bytes: 0, firstLine: 0, lastLine: 0 };
    let handles;
    try {
      handles = await client.enqueueMany(sent.tasks.map(({ type, payload, options }) => ({ type, payload, options })));
    } catch (error) {
      if (!(error instanceof GafferError)) throw error;
      // A failed write may have gone through in part: say which lines are certain and which are not.
      throw new GafferError(
        error.code,
        `${source.name}: enqueueing lines ${sent.firstLine} to ${sent.lastLine} failed: ${error.message}; ${enqueuedSoFar(summary, sent.firstLine)}, and those of lines ${sent.firstLine} to ${sent.lastLine} may or may not have been`,
      );
    }
    const created = handles.filter((handle) => handle.created).length;
    summary.tasks += handles.length;
    summary.created += created;
    summary.existing += handles.length - created;
  };

  try {
    for await (const { number, text } of source.lines()) {
      let task: TaskLine | undefined;
      try {
        task = parseTaskLine(text, defaults);
      } catch (error) {
        if (!(error instanceof TaskLineError)) throw error;
        await flush();
        throw badLine(source.name, number, error.code, error.message, summary);
      }
      if (!task) continue;
      if (batch.tasks.length === 0) batch.firstLine = number;
      batch.lastLine = number;
      batch.tasks.push(task);
      batch.bytes += task.payloadBytes;
      if (batch.tasks.length >= BATCH_TASKS || batch.bytes >= BATCH_BYTES) {
        await flush();
        progress.update({ ...fractionOf(source), text: describeProgress(summary) });
      }
    }
    await flush();
  } finally {
    source.close();
  }
  return summary;
}

/** Short enough for a terminal line beside its bar: "enqueued 1,190 tasks, 10 existed already". */
function describeProgress(summary: TaskFileSummary): string {
  return `enqueued ${count(summary.created, 'task')}${summary.existing === 0 ? '' : `, ${summary.existing.toLocaleString('en-US')} existed already`}`;
}

/** "1,200 tasks: 1,190 new, 10 existed already". */
export function describeCounts(summary: Pick<TaskFileSummary, 'tasks' | 'created' | 'existing'>): string {
  return `${count(summary.tasks, 'task')}: ${summary.created.toLocaleString('en-US')} new, ${summary.existing.toLocaleString('en-US')} existed already`;
}

function badLine(file: string, line: number, code: ErrorCode, reason: string, summary: TaskFileSummary): GafferError {
  const after = summary.tasks === 0 ? '' : `, none from line ${line} on`;
  return new GafferError(code, `${file} line ${line}: ${reason}; stopped there: ${enqueuedSoFar(summary, line)}${after}`);
}

function enqueuedSoFar(summary: TaskFileSummary, line: number): string {
  if (summary.tasks === 0) return 'nothing was enqueued';
  const verb = summary.tasks === 1 ? 'was' : 'were';
  return `the ${count(summary.tasks, 'task')} before line ${line} ${verb} enqueued (${summary.created.toLocaleString('en-US')} new, ${summary.existing.toLocaleString('en-US')} existed already)`;
}

function fractionOf(source: LineSource): { fraction?: number } {
  if (source.sizeBytes === undefined) return {};
  return { fraction: source.sizeBytes === 0 ? 1 : Math.min(1, source.bytesRead() / source.sizeBytes) };
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
