import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { collectTaskTypes, defineTask, isTaskType, type AnyTaskType } from '../../src/core/task-type.js';
import { TaskDefinitionError, TaskModuleError } from '../../src/core/errors.js';

const schema = z.object({ n: z.number() });
const handler = ({ n }: { n: number }) => n * 2;

/** A definition that is valid except for `override`, typed loosely so bad input can be passed. */
function definitionWith(override: Record<string, unknown>): Parameters<typeof defineTask>[0] {
  return { name: 'double', schema, handler, ...override } as Parameters<typeof defineTask>[0];
}

function task(name: string): AnyTaskType {
  return defineTask({ name, schema, handler });
}

describe('defineTask', () => {
  test('returns a task type with its name, schema, handler and settings', () => {
    const double = defineTask({ name: 'double', schema, handler, maxAttempts: 5, timeLimitMs: 2000, backoff: { baseMs: 10 } });
    assert.equal(double.name, 'double');
    assert.equal(double.schema, schema);
    assert.deepEqual(double.settings, { maxAttempts: 5, timeLimitMs: 2000, backoff: { baseMs: 10 } });
    assert.equal(double.handler({ n: 21 }, {} as never), 42);
    assert.ok(isTaskType(double));
  });

  test('settings left out stay out, so the pool defaults fill them', () => {
    assert.deepEqual(defineTask({ name: 'plain', schema, handler }).settings, {});
  });

  test('accepts a schema from another copy of zod (anything with safeParse)', () => {
    const foreign = { safeParse: (value: unknown) => ({ success: true, data: value }) } as unknown as z.ZodType;
    assert.equal(defineTask({ name: 'foreign', schema: foreign, handler: () => null }).schema, foreign);
  });

  for (const name of ['a', 'resize', 'img.resize:v2_hi-res', `a${'b'.repeat(127)}`]) {
    test(`accepts the name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}`, () => {
      assert.equal(defineTask(definitionWith({ name })).name, name);
    });
  }

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an empty name', { name: '' }, /task name "" is not valid: use a letter/],
    ['a name starting with a digit', { name: '1st' }, /task name "1st" is not valid/],
    ['a name with a space', { name: 'my task' }, /not valid/],
    ['a name with a slash', { name: 'a/b' }, /not valid/],
    ['a name of 129 characters', { name: `a${'b'.repeat(128)}` }, /not valid/],
    ['a name that is not a string', { name: 42 }, /task name 42 is not valid/],
    ['a missing schema', { schema: undefined }, /task "double" needs a zod schema/],
    ['a schema that is not zod', { schema: { parse: () => 1 } }, /needs a zod schema/],
    ['a missing handler', { handler: undefined }, /task "double" needs a handler function/],
    ['a handler that is not a function', { handler: 'double' }, /needs a handler function/],
    ['maxAttempts 0', { maxAttempts: 0 }, /task "double" has invalid settings:[\s\S]*maxAttempts/],
    ['a fractional maxCrashes', { maxCrashes: 1.5 }, /maxCrashes/],
    ['a negative timeLimitMs', { timeLimitMs: -1 }, /timeLimitMs/],
    ['a string timeLimitMs', { timeLimitMs: '5s' }, /timeLimitMs/],
    ['a backoff base of 0', { backoff: { baseMs: 0 } }, /baseMs/],
    ['an unknown backoff key', { backoff: { factor: 3 } }, /factor/],
    ['an unknown setting', { retries: 3 }, /retries/],
  ];
  for (const [label, override, message] of invalid) {
    test(`refuses ${label} with task_definition_invalid`, () => {
      assert.throws(() => defineTask(definitionWith(override)), (error: unknown) => {
        assert.ok(error instanceof TaskDefinitionError);
        assert.equal(error.code, 'task_definition_invalid');
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('isTaskType', () => {
  const notTaskTypes: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'double'],
    ['a look-alike object', { name: 'double', schema, handler, settings: {} }],
    ['a function', handler],
  ];
  for (const [label, value] of notTaskTypes) test(`is false for ${label}`, () => assert.equal(isTaskType(value), false));

  test('is true for a defined task type, also when copied with its symbol', () => {
    const double = task('double');
    assert.equal(isTaskType(double), true);
    assert.equal(isTaskType({ ...double }), true);
  });
});

describe('collectTaskTypes', () => {
  const a = task('a');
  const b = task('b');
  const c = task('c');

  const shapes: Array<[string, Record<string, unknown>, AnyTaskType[]]> = [
    ['named exports', { a, b, helper: () => 1, version: 3 }, [a, b]],
    ['a default task type', { default: a }, [a]],
    ['a default array', { default: [a, b, 'not a task'] }, [a, b]],
    ['a default object', { default: { a, b, other: 1 } }, [a, b]],
    ['named exports and a default array listing them again', { a, b, c, default: [a, b, c] }, [a, b, c]],
    ['a mix of named exports and a default object', { a, default: { b, c } }, [a, b, c]],
  ];
  for (const [label, namespace, expected] of shapes) {
    test(`finds the task types of ${label}`, () => {
      const found = collectTaskTypes(namespace, 'tasks.js');
      assert.deepEqual([...found.keys()].sort(), expected.map((t) => t.name));
      for (const taskType of expected) assert.equal(found.get(taskType.name), taskType);
    });
  }

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['two different task types with the same name', { a, other: task('a') }, /tasks\.js defines task type "a" twice; give each task type its own name/],
    ['a duplicate hidden in a default array', { a, default: [task('a')] }, /defines task type "a" twice/],
    ['a module with no task types', { helper: () => 1, schema }, /tasks\.js exports no task types; export the results of defineTask\(\)/],
    ['an empty module', {}, /exports no task types/],
    ['task types nested two levels deep', { default: { group: { a } } }, /exports no task types/],
  ];
  for (const [label, namespace, message] of refused) {
    test(`refuses ${label} with task_module_invalid`, () => {
      assert.throws(() => collectTaskTypes(namespace, 'tasks.js'), (error: unknown) => {
        assert.ok(error instanceof TaskModuleError);
        assert.equal(error.code, 'task_module_invalid');
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
