import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { TaskModuleError } from '../../src/core/errors.js';
import { loadTaskModule } from '../../src/runtime/worker/load-task-module.js';
import { tempDataDir } from '../support/temp-data.js';

/** Writes the files of a task module under a fresh dir; returns the path of the first. */
function writeModule(files: Record<string, string>): string {
  const dir = tempDataDir('task-module');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return path.join(dir, Object.keys(files)[0]!);
}

async function loadError(modulePath: string): Promise<TaskModuleError> {
  const error = await loadTaskModule(modulePath).then(
    () => assert.fail('the task module loaded'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TaskModuleError);
  assert.equal(error.code, 'task_module_invalid');
  return error;
}

describe('a task module that does not load', () => {
  test('one that does not parse: the message shows its file, line and a caret, not node\'s own frames', async () => {
    const tasks = writeModule({ 'tasks.mjs': 'export const fine = 1;\nexport const broken = ;\n' });
    const { message } = await loadError(tasks);
    assert.ok(message.startsWith(`cannot load the task module ${tasks}: SyntaxError: Unexpected token ';'\n${tasks}:2\nexport const broken = ;\n`), message);
    assert.match(message, /\n {22}\^$/, 'the caret sits under the semicolon');
    assert.doesNotMatch(message, /node:internal/);
  });

  test('a CommonJS one that does not parse reads the same', async () => {
    const tasks = writeModule({ 'tasks.cjs': 'module.exports = { a: ;\n' });
    const { message } = await loadError(tasks);
    assert.ok(message.startsWith(`cannot load the task module ${tasks}: SyntaxError: Unexpected token ';'\n${tasks}:1\n`), message);
    assert.doesNotMatch(message, /node:internal/);
  });

  test('one that imports a module that does not parse: the message says the error is in an import', async () => {
    const tasks = writeModule({ 'tasks.mjs': "import { y } from './lib/helper.mjs';\nexport const z = y;\n", 'lib/helper.mjs': 'export const y = {;\n' });
    const { message } = await loadError(tasks);
    assert.equal(message, `cannot load the task module ${tasks}: SyntaxError: Unexpected token ';', in a module that it imports (\`node --check ${tasks}\` finds none in the file itself)`);
  });

  test('a SyntaxError that the module\'s code throws as it runs keeps its stack, which points at that code', async () => {
    const tasks = writeModule({ 'tasks.mjs': "export const settings = JSON.parse('{oops');\n" });
    const { message } = await loadError(tasks);
    assert.match(message, /SyntaxError: .*JSON/);
    assert.ok(message.includes(`tasks.mjs:1`), message);
  });
});
