import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { TaskFailedError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { DecisionRecord } from '../../src/ports/store.js';
import { buildHttpApp } from '../../src/http/server.js';
import type { TaskFinishedEvent } from '../../src/runtime/pool/pool-events.js';
import { startPool } from '../support/pool-harness.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

/*
 * A small parser of the Prometheus text exposition format (0.0.4), strict
 * enough to fail on what Prometheus would reject: every sample belongs to a
 * family declared by # HELP and # TYPE, names and labels are well formed, and
 * no series appears twice.
 */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const seen = new Set<string>();
  for (const [index, line] of text.split('\n').entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line.trim() === '') continue;
    if (line.startsWith('# HELP ')) {
      const [, name, help] = /^# HELP (\S+) (.*)$/.exec(line) ?? fail(`bad HELP, ${where}`);
      if (helps.has(name!)) fail(`HELP twice for ${name}`);
      helps.set(name!, help!);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = /^# TYPE (\S+) (\S+)$/.exec(line) ?? fail(`bad TYPE, ${where}`);
      if (!TYPES.has(type!)) fail(`unknown type ${type}, ${where}`);
      if (families.has(name!)) fail(`TYPE twice for ${name}`);
      if (!METRIC_NAME.test(name!)) fail(`bad metric name ${name}`);
      families.set(name!, { name: name!, help: helps.get(name!) ?? fail(`TYPE before HELP for ${name}`), type: type as Family['type'], samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line, where);
    const family = familyOf(families, sample.name) ?? fail(`sample of an undeclared family, ${where}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) fail(`series twice, ${where}`);
    seen.add(key);
    family.samples.push(sample);
  }
  return families;
}

function parseSample(line: string, where: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line) ?? fail(`bad sample, ${where}`);
  const labels: Record<string, string> = {};
  const body = match[3] ?? '';
  const label = /\s*([^=\s]+)="((?:[^"\\]|\\.)*)"\s*(,|$)/gy;
  let consumed = 0;
  for (let found = label.exec(body); found; found = label.exec(body)) {
    const name = found[1]!;
    if (!LABEL_NAME.test(name) || name.startsWith('__')) fail(`bad label name ${name}, ${where}`);
    if (name in labels) fail(`label ${name} twice, ${where}`);
    labels[name] = found[2]!.replace(/\\(.)/g, (_all, char: string) => (char === 'n' ? '\n' : char));
    consumed = label.lastIndex;
    if (consumed >= body.length) break;
  }
  if (consumed !== body.length) fail(`bad labels, ${where}`);
  return { name: match[1]!, labels, value: parseValue(match[4]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) fail(`bad value ${text}, ${where}`);
  return value;
}

/** The family a sample belongs to: its own name, or a histogram's or summary's _bucket, _sum, _count. */
function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  const own = families.get(sampleName);
  if (own) return own;
  const suffix = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
  if (!suffix) return undefined;
  const family = families.get(suffix[1]!);
  if (!family) return undefined;
  if (family.type === 'histogram') return family;
  if (family.type === 'summary' && suffix[2] !== 'bucket') return family;
  return undefined;
}

function fail(message: string): never {
  throw new Error(`exposition format: ${message}`);
}

/** The value of the one sample of `name` whose labels include `labels`. */
function valueOf(families: Map<string, Family>, family: string, sampleName: string, labels: Record<string, string> = {}): number | undefined {
  const matching = (families.get(family)?.samples ?? []).filter(
    (sample) => sample.name === sampleName && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${sampleName} match ${JSON.stringify(labels)}`);
  return matching[0]?.value;
}

/** Scrapes /metrics and parses it (gauges are re-read when the last read is older than 250 ms). */
async function scrape(app: Awaited<ReturnType<typeof buildHttpApp>>): Promise<Map<string, Family>> {
  await sleep(300);
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
}

function countBy(events: readonly TaskFinishedEvent[], key: (event: TaskFinishedEvent) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) {
    const k = key(event);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

describe('GET /metrics beside a pool', async () => {
  const harness = await startPool({ min: 1, max: 2, restartBackoff: { baseMs: 50, maxMs: 200 } });
  const { pool, client } = harness;
  const decisions: DecisionRecord[] = [];
  pool.on('decision', (decision) => decisions.push(decision));
  const app = await buildHttpApp({ context: { backend: harness.backend, pool, logger: silentLogger, draining: () => false } });
  after(() => app.close());

  const queue = pool.settings.queue;
  const results = Promise.all([
    ...[1, 2, 3].map(async (a) => (await client.enqueue('add', { a, b: 1 })).result({ timeoutMs: 20_000 })),
    ...[
      client.enqueue('fail', { message: 'always fails' }),
      client.enqueue('hang', {}),
      client.enqueue('poison', { say: 'going down' }),
    ].map(async (handle) => (await handle).result({ timeoutMs: 30_000 }).catch((error: unknown) => error)),
  ]);

  test('outcome counters, histograms, timeouts, quarantines and restarts match what the pool did', async () => {
    const [one, two, three, failed, hung, poisoned] = await results;
    assert.deepEqual([one, two, three], [2, 3, 4]);
    for (const error of [failed, hung, poisoned]) assert.ok(error instanceof TaskFailedError, String(error));
    // 3 adds, 3 attempts of fail, 1 hang, 3 runs of poison (2 deaths, then quarantine).
    await waitFor(() => harness.finished.length === 10, 'every run to be recorded');
    const metrics = await scrape(app);

    const tasks = metrics.get('gaffer_tasks_total')!;
    assert.equal(tasks.type, 'counter');
    const expected = countBy(harness.finished, (event) => `${event.type} ${event.state}`);
    assert.deepEqual(
      Object.fromEntries(expected),
      { 'add succeeded': 3, 'fail retrying': 2, 'fail dead': 1, 'hang dead': 1, 'poison queued': 2, 'poison dead': 1 },
      'the runs themselves',
    );
    assert.equal(tasks.samples.length, expected.size);
    for (const sample of tasks.samples) {
      assert.equal(sample.labels.queue, queue);
      assert.equal(sample.value, expected.get(`${sample.labels.type} ${sample.labels.outcome}`), JSON.stringify(sample.labels));
    }

    const run = metrics.get('gaffer_task_run_seconds')!;
    const wait = metrics.get('gaffer_task_wait_seconds')!;
    assert.equal(run.type, 'histogram');
    assert.equal(wait.type, 'histogram');
    for (const [type, runs] of countBy(harness.finished, (event) => event.type)) {
      const labels = { queue, type };
      assert.equal(valueOf(metrics, run.name, `${run.name}_count`, labels), runs, `runs of ${type}`);
      const seconds = harness.finished.filter((event) => event.type === type).reduce((sum, event) => sum + event.runMs / 1000, 0);
      assert.ok(Math.abs(valueOf(metrics, run.name, `${run.name}_sum`, labels)! - seconds) < 1e-6, `run time of ${type}`);
      const tasksOfType = new Set(harness.finished.filter((event) => event.type === type).map((event) => event.id)).size;
      assert.equal(valueOf(metrics, wait.name, `${wait.name}_count`, labels), tasksOfType, `a wait for the first attempt of each ${type} task`);
    }
    assert.equal(valueOf(metrics, wait.name, `${wait.name}_count`, { queue, type: 'add' }), 3);
    const hangRun = harness.finished.find((event) => event.type === 'hang')!.runMs / 1000;
    assert.equal(valueOf(metrics, run.name, `${run.name}_bucket`, { type: 'hang', le: '0.25' }), 0, `hang ran ${hangRun}s, over its 300 ms limit`);
    assert.equal(valueOf(metrics, run.name, `${run.name}_bucket`, { type: 'hang', le: '+Inf' }), 1);

    assert.equal(valueOf(metrics, 'gaffer_task_timeouts_total', 'gaffer_task_timeouts_total', { queue, type: 'hang' }), 1);
    assert.equal(metrics.get('gaffer_task_timeouts_total')!.samples.length, 1, 'only hang timed out');
    const quarantines = metrics.get('gaffer_task_quarantines_total')!;
    assert.deepEqual(
      quarantines.samples.map((sample) => `${sample.labels.type} ${sample.labels.reason} ${sample.value}`).sort(),
      ['hang timeout 1', 'poison crashed 1'],
    );

    const restarts = (cause: string) => valueOf(metrics, 'gaffer_worker_restarts_total', 'gaffer_worker_restarts_total', { pool: pool.id, cause });
    assert.equal(restarts('crashed'), 3, 'poison killed three workers');
    assert.equal(restarts('timeout'), 1, 'hang had its worker killed');
    assert.equal(restarts('cancelled'), 0, 'present before the first one');
    assert.equal(restarts('start_timeout'), 0);
    assert.equal(valueOf(metrics, 'gaffer_worker_exits_total', 'gaffer_worker_exits_total', { pool: pool.id, cause: 'crashed' }), 3);

    const decided = metrics.get('gaffer_scaling_decisions_total')!;
    assert.equal(decided.type, 'counter');
    assert.equal(
      decided.samples.reduce((sum, sample) => sum + sample.value, 0),
      decisions.length,
      `decisions: ${decisions.map((d) => `${d.from}→${d.to} ${d.reason}`).join(', ')}`,
    );
    for (const decision of decisions) {
      const direction = decision.to > decision.from ? 'up' : decision.to < decision.from ? 'down' : 'hold';
      assert.ok(valueOf(metrics, decided.name, decided.name, { pool: pool.id, direction, reason: decision.reason })! >= 1);
    }
    for (const sample of decided.samples) assert.match(sample.labels.direction!, /^(up|down|hold)$/);
  });

  test('queue, pool and worker gauges come from the cluster view', async () => {
    await results;
    // After the crashes the pool restarts its workers with a backoff; the store sees them within a heartbeat.
    await waitFor(async () => {
      const reported = (await harness.backend.store.listPools()).find((snapshot) => snapshot.id === pool.id);
      return reported !== undefined && reported.workers.length >= 1 && reported.workers.every((worker) => worker.state === 'idle');
    }, 'the pool to report idle workers again');
    const metrics = await scrape(app);
    assert.equal(valueOf(metrics, 'gaffer_backend_up', 'gaffer_backend_up'), 1);

    const depth = (state: string) => valueOf(metrics, 'gaffer_queue_tasks', 'gaffer_queue_tasks', { queue, state });
    assert.equal(metrics.get('gaffer_queue_tasks')!.type, 'gauge');
    assert.equal(depth('dead'), 3, 'fail, hang and poison are dead letters');
    for (const state of ['ready', 'blocked', 'delayed', 'running']) assert.equal(depth(state), 0, state);
    assert.equal(valueOf(metrics, 'gaffer_queue_paused', 'gaffer_queue_paused', { queue }), 0);
    assert.equal(metrics.get('gaffer_queue_enqueued_total')!.type, 'counter');
    assert.equal(valueOf(metrics, 'gaffer_queue_enqueued_total', 'gaffer_queue_enqueued_total', { queue }), 6);

    const labels = { pool: pool.id, queue };
    const desired = valueOf(metrics, 'gaffer_pool_desired_workers', 'gaffer_pool_desired_workers', labels);
    const actual = valueOf(metrics, 'gaffer_pool_workers', 'gaffer_pool_workers', labels);
    assert.ok(desired !== undefined && desired >= pool.settings.min && desired <= pool.settings.max, `desired ${desired}`);
    assert.ok(actual !== undefined && actual >= pool.settings.min && actual <= pool.settings.max, `actual ${actual}`);
    assert.equal(valueOf(metrics, 'gaffer_pool_min_workers', 'gaffer_pool_min_workers', labels), 1);
    assert.equal(valueOf(metrics, 'gaffer_pool_max_workers', 'gaffer_pool_max_workers', labels), 2);
    assert.equal(valueOf(metrics, 'gaffer_pool_info', 'gaffer_pool_info', { ...labels })!, 1);

    const workers = metrics.get('gaffer_workers')!;
    assert.deepEqual(workers.samples.map((sample) => sample.labels.state).sort(), ['busy', 'idle', 'retiring', 'starting']);
    const live = workers.samples.filter((sample) => sample.labels.state !== 'retiring').reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(live, actual, 'the actual size is the live workers');
    assert.equal(valueOf(metrics, 'gaffer_workers', 'gaffer_workers', { ...labels, state: 'busy' }), 0);
  });

  test('a paused queue shows as paused, with every state at zero', async () => {
    await harness.backend.store.setQueuePaused('reports', true);
    after(() => harness.backend.store.setQueuePaused('reports', false));
    const metrics = await scrape(app);
    assert.equal(valueOf(metrics, 'gaffer_queue_paused', 'gaffer_queue_paused', { queue: 'reports' }), 1);
    assert.equal(valueOf(metrics, 'gaffer_queue_tasks', 'gaffer_queue_tasks', { queue: 'reports', state: 'ready' }), 0);
  });

  test('every family is documented and follows the naming conventions', async () => {
    const metrics = await scrape(app);
    for (const family of metrics.values()) {
      assert.match(family.name, METRIC_NAME);
      assert.ok(family.help.length > 0, `${family.name} has help`);
      for (const sample of family.samples) for (const name of Object.keys(sample.labels)) assert.match(name, LABEL_NAME);
    }
    const ours = [...metrics.values()].filter((family) => family.name.startsWith('gaffer_'));
    assert.ok(ours.length >= 15, ours.map((family) => family.name).join(', '));
    for (const family of ours) {
      assert.match(family.name, /^gaffer_[a-z][a-z0-9_]*[a-z]$/, 'snake case, one namespace');
      assert.doesNotMatch(family.name, /(_ms|milli|_minutes|_hours)(_|$)/, `${family.name}: times are in seconds`);
      if (family.type === 'counter') assert.match(family.name, /_total$/, `${family.name}: counters end in _total`);
      else assert.doesNotMatch(family.name, /_total$/, `${family.name}: only counters end in _total`);
      if (family.type === 'histogram') {
        assert.match(family.name, /_seconds$/, `${family.name}: the unit is in the name`);
        checkHistogram(family);
      }
      for (const sample of family.samples) {
        assert.ok(Number.isFinite(sample.value) && sample.value >= 0, `${sample.name} ${JSON.stringify(sample.labels)} = ${sample.value}`);
      }
    }
    // The process's own metrics come along (from this server's registry, not the global one).
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
      assert.ok(metrics.has(name), `${name} is exported`);
    }
  });
});

/** Buckets only grow, +Inf is the count, and every series has its sum and count. */
function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...labels } = sample.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((sample) => sample.name === `${family.name}_bucket`);
    const bounds = buckets.map((sample) => Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le));
    assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b), `${family.name} ${key}: buckets in order`);
    assert.equal(bounds.at(-1), Infinity, `${family.name} ${key}: ends with +Inf`);
    assert.ok(bounds.includes(0.001) && bounds.includes(600), `${family.name}: buckets from milliseconds to minutes`);
    buckets.slice(1).forEach((bucket, i) => assert.ok(bucket.value >= buckets[i]!.value, `${family.name} ${key}: cumulative buckets`));
    const count = samples.find((sample) => sample.name === `${family.name}_count`);
    const sum = samples.find((sample) => sample.name === `${family.name}_sum`);
    assert.ok(count && sum, `${family.name} ${key}: _count and _sum`);
    assert.equal(buckets.at(-1)!.value, count.value, `${family.name} ${key}: +Inf equals _count`);
  }
}

describe('GET /metrics without a pool (gaffer dashboard)', async () => {
  const harness = await startPool({ min: 1, max: 2 });
  // The pool's own backend, but no pool in the context: what `gaffer dashboard` sees. (A second
  // embedded backend on the same file in one process would wait on this one's write lock.)
  const backend = harness.backend;
  const app = await buildHttpApp({ context: { backend, logger: silentLogger, draining: () => false } });
  after(() => app.close());

  test("the pools' desired and actual sizes still show; the pool counters have no series", async () => {
    await (await harness.client.enqueue('add', { a: 1, b: 1 })).result({ timeoutMs: 10_000 });
    await waitFor(async () => (await backend.store.listPools()).some((snapshot) => snapshot.id === harness.pool.id), 'the pool to report');
    const metrics = await scrape(app);
    const labels = { pool: harness.pool.id, queue: harness.pool.settings.queue };
    assert.ok(valueOf(metrics, 'gaffer_pool_desired_workers', 'gaffer_pool_desired_workers', labels)! >= 1);
    assert.ok(valueOf(metrics, 'gaffer_pool_workers', 'gaffer_pool_workers', labels)! >= 1);
    assert.equal(valueOf(metrics, 'gaffer_queue_enqueued_total', 'gaffer_queue_enqueued_total', { queue: labels.queue }), 1);
    assert.equal(metrics.get('gaffer_tasks_total')?.samples.length ?? 0, 0);
    assert.equal(metrics.get('gaffer_worker_restarts_total')?.samples.length ?? 0, 0);
  });
});

describe('GET /metrics when the backend does not answer', async () => {
  const real = openBackend({ data: tempDataDir('metrics-down') });
  after(() => real.close());
  const failing = (): Promise<never> => Promise.reject(new Error('connect ECONNREFUSED amqp://gaffer:s3cret@rabbit:5672'));
  // A class instance: a proxy keeps its other methods, which spreading it would lose.
  const broker = new Proxy(real.broker, {
    get: (target, property) => (property === 'stats' ? failing : (Reflect.get(target, property) as (...args: unknown[]) => unknown).bind(target)),
  });
  const broken: Backend = { ...real, broker };
  const app = await buildHttpApp({ context: { backend: broken, logger: silentLogger, draining: () => false } });
  after(() => app.close());

  test('the scrape still answers: gaffer_backend_up is 0, the cluster gauges are left out, the process metrics stay', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.doesNotMatch(response.body, /s3cret/);
    const metrics = parseExposition(response.body);
    assert.equal(valueOf(metrics, 'gaffer_backend_up', 'gaffer_backend_up'), 0);
    assert.equal(metrics.get('gaffer_queue_tasks')!.samples.length, 0);
    assert.ok(metrics.get('process_cpu_seconds_total')!.samples.length > 0);
  });
});
