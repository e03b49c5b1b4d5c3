import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startPool } from '../support/pool-harness.js';
import { tempDataDir } from '../support/temp-data.js';

interface Run {
  key: string;
  seq: number;
  pid: number;
  start: number;
  end: number;
  ok: boolean;
}

function readRuns(file: string): Run[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [key, seq, pid, start, end, status] = line.split(' ');
      return { key: key!, seq: Number(seq), pid: Number(pid), start: Number(start), end: Number(end), ok: status === 'ok' };
    });
}

describe('ordering keys', async () => {
  const harness = await startPool({ min: 2 });
  const { client } = harness;

  test('tasks of one key run one at a time in enqueue order, also across retries, while other keys run in parallel', async () => {
    const file = path.join(tempDataDir('keys'), 'runs.log');
    const entries = [];
    for (let seq = 0; seq < 6; seq++) {
      for (const key of ['alpha', 'beta']) {
        // The first alpha task fails once: the rest of alpha must wait for its retry.
        entries.push({ type: 'record' as const, payload: { file, key, seq, ms: 15, failFirst: key === 'alpha' && seq === 0 }, options: { key } });
      }
    }
    const handles = await client.enqueueMany(entries);
    await Promise.all(handles.map((handle) => handle.result({ timeoutMs: 20_000 })));

    const runs = readRuns(file);
    for (const key of ['alpha', 'beta']) {
      const ofKey = runs.filter((run) => run.key === key).sort((a, b) => a.start - b.start);
      const successes = ofKey.filter((run) => run.ok).map((run) => run.seq);
      assert.deepEqual(successes, [0, 1, 2, 3, 4, 5], `${key} ran in enqueue order`);
      for (let i = 1; i < ofKey.length; i++) {
        assert.ok(ofKey[i]!.start >= ofKey[i - 1]!.end, `${key} runs never overlap`);
      }
    }
    const alpha = runs.filter((run) => run.key === 'alpha').sort((a, b) => a.start - b.start);
    assert.deepEqual(alpha.slice(0, 2).map((run) => [run.seq, run.ok]), [[0, false], [0, true]], 'the retry of alpha 0 came before alpha 1');
    const beta = runs.filter((run) => run.key === 'beta');
    const overlapping = alpha.some((a) => beta.some((b) => a.start < b.end && b.start < a.end));
    assert.ok(overlapping, 'different keys ran at the same time');
  });
});
