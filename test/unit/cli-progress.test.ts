import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { barProgress, lineProgress } from '../../src/cli/format/progress.js';
import { progressBar } from '../../src/cli/format/progress-bar.js';
import { startSpinner } from '../../src/cli/format/spinner.js';
import { formatElapsed, StatusLine } from '../../src/cli/format/status-line.js';
import { parseTaskLine, TaskLineError } from '../../src/cli/task-file/parse-task-line.js';

/** A terminal (or a pipe) that records what was written to it. */
function fakeOut(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (text: string) => writes.push(text), text: () => writes.join('') };
}

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('progressBar', () => {
  test('fills in proportion and clamps', () => {
    assert.equal(progressBar(0, 4), '░░░░');
    assert.equal(progressBar(0.5, 4), '██░░');
    assert.equal(progressBar(1, 4), '████');
    assert.equal(progressBar(1.7, 4), '████');
    assert.equal(progressBar(-1, 4), '░░░░');
  });
});

describe('formatElapsed', () => {
  for (const [ms, text] of [
    [0, '0.0s'],
    [420, '0.4s'],
    [12_345, '12.3s'],
    [125_000, '2m5s'],
    [3_720_000, '1h2m'],
  ] as const) {
    test(`${ms} ms → ${text}`, () => assert.equal(formatElapsed(ms), text));
  }
});

describe('StatusLine', () => {
  test('redraws one line in place and cuts it to the terminal width, so it never wraps', () => {
    const out = fakeOut(true, 20);
    const line = new StatusLine(out);
    line.draw('short');
    line.draw('a line far longer than twenty columns');
    assert.equal(out.writes[0], '\r\x1b[2Kshort');
    assert.equal(out.writes[1], `\r\x1b[2K${'a line far longer '}…`);
    assert.equal([...out.writes[1]!.slice(5)].length, 19);
    line.clear();
    line.clear();
    assert.equal(out.writes.length, 3, 'a second clear writes nothing');
  });

  test('a terminal that reports no width (0) is taken as 80 columns', () => {
    const out = fakeOut(true, 0);
    new StatusLine(out).draw('x'.repeat(60));
    assert.equal(out.writes[0], `\r\x1b[2K${'x'.repeat(60)}`);
  });
});

describe('startSpinner', () => {
  test('on a terminal: a frame with the label and the time elapsed, then a clean line', async () => {
    const out = fakeOut(true);
    const clock = fakeClock();
    const spinner = startSpinner(out, 'task t1', clock.now);
    assert.match(out.writes[0]!, /^\r\x1b\[2K⠋ task t1 · 0\.0s$/);
    clock.advance(1500);
    spinner.setLabel('task t1: running');
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.match(out.writes.at(-1)!, /^\r\x1b\[2K. task t1: running · 1\.5s$/);
    spinner.stop();
    spinner.stop();
    assert.equal(out.writes.at(-1), '\r\x1b[2K');
    const drawn = out.writes.length;
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(out.writes.length, drawn, 'nothing drawn after stop');
  });

  test('in a pipe or a file: nothing at all', async () => {
    const out = fakeOut(false);
    const spinner = startSpinner(out, 'task t1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    spinner.stop();
    assert.deepEqual(out.writes, []);
  });
});

describe('barProgress', () => {
  test('draws the bar, the percentage and the text, at most ten times a second, and clears at the end', () => {
    const out = fakeOut(true);
    const clock = fakeClock();
    const progress = barProgress(out, clock.now);
    progress.update({ fraction: 0.25, text: 'enqueued 250 tasks' });
    progress.update({ fraction: 0.3, text: 'enqueued 300 tasks' });
    clock.advance(100);
    progress.update({ fraction: 0.5, text: 'enqueued 500 tasks' });
    progress.update({ text: 'no size known' });
    clock.advance(100);
    progress.update({ text: 'enqueued 600 tasks' });
    progress.finish();
    assert.equal(out.writes.length, 4);
    assert.equal(out.writes[0], `\r\x1b[2K[${'█'.repeat(6)}${'░'.repeat(18)}] 25%  enqueued 250 tasks · 0.0s`);
    assert.match(out.writes[1]!, /\] 50%  enqueued 500 tasks · 0\.1s$/);
    assert.equal(out.writes[2], '\r\x1b[2Kenqueued 600 tasks · 0.2s', 'without a fraction, no bar');
    assert.equal(out.writes[3], '\r\x1b[2K');
  });
});

describe('lineProgress', () => {
  test('a plain line per tenth of the way, or after a quiet while; never a control character', () => {
    const out = fakeOut(false);
    const clock = fakeClock();
    const progress = lineProgress(out, { everyMs: 5000, now: clock.now });
    progress.update({ fraction: 0.04, text: 'enqueued 40 tasks' });
    progress.update({ fraction: 0.12, text: 'enqueued 120 tasks' });
    progress.update({ fraction: 0.15, text: 'enqueued 150 tasks' });
    clock.advance(5000);
    progress.update({ fraction: 0.16, text: 'enqueued 160 tasks' });
    progress.update({ fraction: 0.35, text: 'enqueued 350 tasks' });
    clock.advance(5000);
    progress.update({ text: 'enqueued 400 tasks' });
    progress.finish();
    assert.equal(out.text(), 'enqueued 120 tasks (12%)\nenqueued 160 tasks (16%)\nenqueued 350 tasks (35%)\nenqueued 400 tasks\n');
  });
});

describe('parseTaskLine', () => {
  test('a task with its options; the line wins over the defaults', () => {
    const line = parseTaskLine('{"type":"resize","payload":{"w":320},"queue":"images","id":"r-1","delayMs":500}', { queue: 'main', key: 'k' });
    assert.deepEqual(line, { type: 'resize', payload: { w: 320 }, options: { queue: 'images', key: 'k', id: 'r-1', delayMs: 500 }, payloadBytes: 9 });
    assert.deepEqual(parseTaskLine('{"type":"noop","payload":null}')?.payload, null);
  });

  test('blank lines are skipped', () => {
    assert.equal(parseTaskLine(''), undefined);
    assert.equal(parseTaskLine('   \t'), undefined);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"type":', /^not JSON \(/],
    ['an array', '[1,2]', /^not a JSON object; a line is a JSON object/],
    ['a string', '"add"', /^not a JSON object/],
    ['no type', '{"payload":{}}', /^"type" is missing;/],
    ['a type that is not a string', '{"type":3,"payload":{}}', /^"type" must be a task type's name, a string/],
    ['no payload', '{"type":"add"}', /^"payload" is missing \(write "payload": \{\} for none\)/],
    ['a misspelt field', '{"type":"add","payload":{},"delay":5}', /^unknown field "delay";/],
    ['a bad option', '{"type":"add","payload":{},"queue":"no spaces"}', /^invalid enqueue options: queue: /],
    ['a payload over the limit', JSON.stringify({ type: 'add', payload: 'x'.repeat(1024 * 1024) }), /^payload is \d+ bytes, over the limit/],
  ];
  for (const [what, text, message] of bad) {
    test(`refuses ${what}, saying why`, () => {
      assert.throws(
        () => parseTaskLine(text),
        (error: unknown) => error instanceof TaskLineError && message.test(error.message),
      );
    });
  }

  test('keeps the stable code of the underlying error', () => {
    assert.throws(() => parseTaskLine('{"type":"add","payload":{},"id":"has space"}'), { code: 'enqueue_options_invalid' });
    assert.throws(() => parseTaskLine(JSON.stringify({ type: 'add', payload: 'x'.repeat(1024 * 1024) })), { code: 'payload_too_large' });
    assert.throws(() => parseTaskLine('{"type":"add"}'), { code: 'payload_invalid' });
  });
});
