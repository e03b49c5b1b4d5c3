import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CLI, childPids, isAlive, runCli, startPool, type CliResult } from '../support/pool-harness.js';
import { tempDataDir } from '../support/temp-data.js';

/** A user's mistake is one line on stderr and a non-zero exit, never a stack trace. */
function assertOneLineError(result: CliResult, pattern: RegExp): void {
  assert.notEqual(result.status, 0);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

describe('the gaffer CLI', async () => {
  const data = tempDataDir('cli');
  const gaffer = (...args: string[]) => runCli([...args, '--data', data]);

  test('enqueue prints the id; status shows it waiting', async () => {
    const enqueued = await gaffer('enqueue', 'add', '{"a":1,"b":2}', '--id', 'cli-1');
    assert.equal(enqueued.status, 0, enqueued.stderr);
    assert.match(enqueued.stdout, /enqueued cli-1/);
    assert.match((await gaffer('enqueue', 'add', '{"a":1,"b":2}', '--id', 'cli-1')).stdout, /exists already/);
    const status = JSON.parse((await gaffer('status', '--json')).stdout) as { queues: Array<{ queue: string; ready: number }> };
    assert.equal(status.queues.find((q) => q.queue === 'default')?.ready, 1);
    assert.match((await gaffer('status')).stdout, /QUEUE\s+READY/);
  });

  test('bad input and bad options are clear one-line errors', async () => {
    assertOneLineError((await gaffer('enqueue', 'add', '{not json')), /^gaffer: the payload is not JSON/);
    assertOneLineError((await gaffer('enqueue', 'add', '{}', '--queue', 'no spaces allowed')), /^gaffer: invalid enqueue options/);
    assertOneLineError((await gaffer('enqueue', 'add', '{}', '--delay', 'soon')), /is not a duration/);
    assertOneLineError((await runCli(['up', '--tasks', '/nowhere/tasks.js', '--data', data])), /^gaffer: task module not found: \/nowhere\/tasks\.js/);
    assertOneLineError((await runCli(['up', '--tasks', data, '--data', data])), /^gaffer: task module is a directory, not a file: .*; pass the path to your compiled task module/);
    // A setting out of range is named by its flag, and in the unit the pool takes it in.
    assertOneLineError(await runCli(['up', '--tasks', '/nowhere/tasks.js', '--data', data, '--lease', '100ms']), /^gaffer: invalid pool settings: --lease \(in ms\): Too small: expected number to be >=500$/);
    assertOneLineError((await gaffer('dead', 'show', 'nope')), /^gaffer: no dead letter with id "nope"/);
    assertOneLineError((await gaffer('dead', 'retry')), /give their ids, or --queue <name>, or --all/);
    // A mistyped --data: the commands that read what others wrote say so, and create nothing there.
    const nowhere = path.join(tempDataDir('cli-missing'), 'not-here');
    assertOneLineError(await runCli(['status', '--data', nowhere]), /^gaffer: no gaffer database at .*not-here\/gaffer\.db: nothing was enqueued or run there yet; pass the --data .*, or, if they use RabbitMQ, its --broker amqp:\/\/\.\.\./);
    assertOneLineError(await runCli(['dead', 'list', '--data', nowhere]), /^gaffer: no gaffer database at /);
    assert.equal(fs.existsSync(nowhere), false, 'no directory, no database');
  });

  test('a task module that does not load stops `gaffer up` with the module error', async () => {
    const broken = path.join(tempDataDir('broken'), 'tasks.mjs');
    fs.writeFileSync(broken, 'export const x = ;\n');
    const result = (await runCli(['up', '--tasks', broken, '--data', data, '--log-level', 'error']));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /gaffer: a worker could not load the task module: cannot load the task module .*SyntaxError: Unexpected token ';'\n.*tasks\.mjs:1\nexport const x = ;\n/s);
  });

  test('enqueue --wait prints the result, or fails with the reason; dead list, show, retry and purge', async () => {
    await startPool({ max: 1 }, { data });
    const added = (await gaffer('enqueue', 'add', '{"a":20,"b":22}', '--wait'));
    assert.equal(added.status, 0, added.stderr);
    assert.equal(added.stdout.trim(), '42');

    const failed = (await gaffer('enqueue', 'fail', '{"message":"quota exceeded"}', '--wait', '--id', 'doomed'));
    assertOneLineError(failed, /^gaffer: task "doomed" failed after 3 attempt\(s\): quota exceeded/);

    assert.match((await gaffer('dead', 'list')).stdout, /doomed\s+default\s+fail/);
    const shown = (await gaffer('dead', 'show', 'doomed'));
    assert.match(shown.stdout, /reason:\s+failed after 3 attempt\(s\): quota exceeded/);
    assert.match(shown.stdout, /stack:\nError: quota exceeded\n\s+at /);
    assert.equal(JSON.parse((await gaffer('dead', 'show', 'doomed', '--json')).stdout).envelope.id, 'doomed');

    assert.match((await gaffer('dead', 'retry', 'doomed')).stdout, /sent 1 dead letter/);
    // It fails again: back in the dead-letter queue after its fresh attempts.
    const deadAgain = (await gaffer('enqueue', 'fail', '{}', '--id', 'doomed', '--wait'));
    assert.notEqual(deadAgain.status, 0);
    assert.match((await gaffer('dead', 'purge', '--all')).stdout, /deleted 1 dead letter/);
    assert.match((await gaffer('dead', 'list')).stdout, /no dead letters/);
  });

  test('--version and --help', async () => {
    assert.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+/);
    const help = (await runCli(['--help'])).stdout;
    for (const command of ['up', 'demo', 'enqueue', 'status', 'dead']) assert.match(help, new RegExp(`\\b${command}\\b`));
  });
});

describe('gaffer demo', async () => {
  test('mines blocks, prints the summary, exits 0 and leaves no process behind', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--blocks', '2', '--difficulty', '17', '--scale-down-window', '300ms'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.resume();
    const seen = new Set<number>();
    const watcher = setInterval(() => childPids(child.pid!).forEach((pid) => seen.add(pid)), 20);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(watcher);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /block 1 found: nonce \d+/);
    assert.match(stdout, /block 2 found/);
    assert.match(stdout, /scale \d → 2 \((backlog|at_max)\)/);
    assert.match(stdout, /Tasks: \d+ ran, \d+ cancelled/);
    assert.match(stdout, /CPU efficiency: \d\.\d{3} of the ideal/);
    assert.match(stdout, /Scaling decisions/);
    assert.match(stdout, /back at its minimum: 0 worker/);
    assert.ok(seen.size > 0, 'the demo started worker processes');
    for (const pid of seen) assert.equal(isAlive(pid), false, `process ${pid} outlived the demo`);
  });
});
