#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { GafferError } from '../core/errors.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDead } from './commands/dead.js';
import { registerDemo } from './commands/demo.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerStatus } from './commands/status.js';
import { registerUp } from './commands/up.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('gaffer')
  .description('a task queue whose pool of worker processes grows and shrinks with the work that is waiting')
  .version(version)
  // Usage errors read like gaffer's own: one line, "gaffer: ...".
  .configureOutput({ outputError: (text, write) => write(`gaffer: ${text.replace(/^error: /, '')}`) });

registerUp(program);
registerDemo(program);
registerEnqueue(program);
registerStatus(program);
registerDead(program);
registerDashboard(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A user's mistake (bad input, a missing file, a failed task) is one line, never a stack trace.
  if (error instanceof GafferError) {
    process.stderr.write(`gaffer: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`gaffer: unexpected error, please report it: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(70);
}
