import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openBackend, type Backend } from '../../src/adapters/open-backend.js';
import { silentLogger } from '../../src/ports/logger.js';
import { startHttpServer } from '../../src/http/server.js';
import { startPool } from '../support/pool-harness.js';
import { sleep, tempDataDir, waitFor } from '../support/temp-data.js';

/** Debian's chromium package: no browser is ever downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
const TOKEN = 'dashboard-test-token-7b1f';
const IN_CI = process.env.CI === 'true';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);

// Outside CI a machine without chromium skips the browser test; CI must run it (.ci/run installs chromium).
const browserSkip = !HAVE_CHROMIUM && !IN_CI ? `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) to run the dashboard test` : false;

/** What the page exposes for inspection (dashboard/app.js), typed here: the tests compile without the DOM's types. */
interface DashboardProbe {
  frames: number;
  chart: {
    pointCount: number;
    data: number[][];
    plot: { over: { getBoundingClientRect(): { left: number; top: number; height: number } }; valToPos(value: number, scale: string): number };
  };
  decisions: Array<{ at: number; from: number; to: number; reason: string; detail: string }>;
}

// Only ever used inside functions that Playwright runs in the page.
declare const window: { gafferDashboard: DashboardProbe };
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const sessionStorage: { getItem(key: string): string | null };

test('the dashboard follows a burst live, explains the pool size, and retries a dead letter from its button', { skip: browserSkip, timeout: 120_000 }, async () => {
  assert.ok(HAVE_CHROMIUM, `CI must run the browser test: ${CHROMIUM} is missing (.ci/run installs it with apt-get install -y chromium)`);
  const harness = await startPool({ min: 1, max: 2 });
  const server = await startHttpServer({
    address: { host: '127.0.0.1', port: 0 },
    token: TOKEN,
    context: { backend: harness.backend, pool: harness.pool, logger: silentLogger, draining: () => false },
  });
  let browser: Browser | undefined;
  const pageErrors: string[] = [];
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // The browser logs the deliberate write with a wrong token (401); anything else is a fault of the page.
      if (message.type() === 'error' && !/status of 401/.test(message.text())) pageErrors.push(message.text());
    });

    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => window.gafferDashboard?.frames > 0, undefined, { timeout: 10_000 });
    assert.match((await page.textContent('#backend')) ?? '', /sqlite/);
    assert.equal(await page.locator('#pools-body tr[data-key]').count(), 1, 'the pool is listed');

    // A write with a wrong token shows the API's own message.
    await page.fill('#token', 'not-the-token');
    await page.click('#token-form button[type=submit]');
    await page.locator('#queues-body tr[data-key="default"] button').click();
    await waitForText(page, '#notice', /Authorization: Bearer/);
    assert.equal(await page.getAttribute('#notice', 'data-kind'), 'error');
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type=submit]');
    assert.equal(await page.getAttribute('#token-form', 'data-set'), 'true');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('gaffer.token')), TOKEN);
    assert.equal((await harness.backend.store.pausedQueues()).length, 0, 'the refused pause changed nothing');

    // A burst: the chart grows and shows it, busy workers appear, and the pool grows with a recorded reason.
    const pointsBefore = await page.evaluate(() => window.gafferDashboard.chart.pointCount);
    await harness.client.enqueueMany(Array.from({ length: 14 }, () => ({ type: 'spin' as const, payload: { ms: 350 } })));
    await page.waitForSelector('#workers-body td.state-busy', { timeout: 15_000 });
    await page.waitForFunction(
      (before) => {
        const [times, queued, running, , workers] = window.gafferDashboard.chart.data;
        return times!.length >= before + 2 && Math.max(...queued!) > 0 && Math.max(...running!) > 0 && Math.max(...workers!) >= 2;
      },
      pointsBefore,
      { timeout: 15_000 },
    );
    await page.waitForFunction(() => window.gafferDashboard.decisions.some((d) => d.to > d.from), undefined, { timeout: 15_000 });
    const growth = await page.evaluate(() => window.gafferDashboard.decisions.find((d) => d.to > d.from)!);
    await waitForText(page, `#pools-body tr[data-key="${harness.pool.id}"]`, new RegExp(`${growth.reason} ${growth.from} → ${growth.to}`));

    // Pointing at the decision's marker shows its reason and detail.
    const marker = await page.evaluate(() => {
      const { chart, decisions } = window.gafferDashboard;
      const decision = decisions.find((d) => d.to > d.from)!;
      const box = chart.plot.over.getBoundingClientRect();
      return { ...decision, x: box.left + chart.plot.valToPos(decision.at / 1000, 'x'), y: box.top + box.height / 2 };
    });
    await page.mouse.move(marker.x, marker.y);
    await waitForText(page, '#chart .tip', new RegExp(`${marker.from} → ${marker.to} workers · ${marker.reason}`));
    assert.ok(((await page.textContent('#chart .tip')) ?? '').includes(marker.detail));
    await page.mouse.move(0, 0);

    // The min/max controls change the pool at run time.
    const limits = page.locator(`#pools-body tr[data-key="${harness.pool.id}"] .limits`);
    await limits.locator('input[name=min]').fill('1');
    await limits.locator('input[name=max]').fill('1');
    await limits.locator('button.apply').click();
    await waitFor(() => harness.pool.snapshot().max === 1, 'the pool to take max 1 from the page');
    await limits.locator('button', { hasText: 'reset' }).click();
    await waitFor(() => harness.pool.snapshot().max === 2, 'the pool to get its own max back');

    // A dead letter, listed with its failures.
    await waitFor(() => harness.pool.snapshot().workers.every((w) => w.state !== 'busy'), 'the burst to finish', 20_000);
    const doomed = await harness.client.enqueue('fail', { message: 'boom for the dashboard' });
    await waitFor(async () => (await harness.backend.broker.getDead(doomed.id)) !== undefined, 'the task to be dead-lettered');
    const deadRow = page.locator(`#dead-body tr[data-key="${doomed.id}"]`);
    await deadRow.waitFor({ timeout: 10_000 });
    await waitForText(page, '#failures-body', /boom for the dashboard/);

    // Paused from the page first, so that the retried task stays queued instead of failing again at once.
    await page.locator('#queues-body tr[data-key="default"] button').click();
    await waitFor(() => harness.pool.snapshot().paused, 'the pool to see its queue paused');
    await waitForText(page, '#queues-body tr[data-key="default"] button', /resume/);
    await deadRow.locator('button.retry').click();
    await waitFor(async () => (await fetch(`${server.url}/api/dead/${encodeURIComponent(doomed.id)}`)).status === 404, 'the dead letter to leave the list');
    const task = (await (await fetch(`${server.url}/api/tasks/${encodeURIComponent(doomed.id)}`)).json()) as { state: string };
    assert.equal(task.state, 'queued');
    await deadRow.waitFor({ state: 'detached', timeout: 10_000 });

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    await page.locator('#queues-body tr[data-key="default"] button').click();
    await waitFor(async () => (await harness.backend.store.pausedQueues()).length === 0, 'the queue to be resumed from the page');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close();
    await server.close();
  }
});

test('the event stream honours its pages, and reads nothing once its client has gone', { timeout: 30_000 }, async () => {
  const backend = countingReads(openBackend({ data: tempDataDir('events') }));
  const server = await startHttpServer({
    address: { host: '127.0.0.1', port: 0 },
    context: { backend, logger: silentLogger, draining: () => false },
  });
  try {
    const queues = Array.from({ length: 30 }, (_, i) => `q${String(i).padStart(2, '0')}`);
    await backend.broker.enqueue(queues.map((queue, i) => ({ id: `t${i}`, queue, type: 'noop', payload: 'null', enqueuedAt: Date.now() })));

    const bad = await fetch(`${server.url}/api/events?queueLimit=0`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'request_invalid');

    const stream = await openStream(`${server.url}/api/events?queueOffset=10&queueLimit=5&queueFilter=q1`);
    assert.match(stream.contentType, /^text\/event-stream/);
    const frame = (await stream.nextEvent('cluster')) as { queues: { total: number; items: Array<{ queue: string }> }; totals: { queues: number }; history: unknown[] };
    assert.equal(frame.totals.queues, 30);
    assert.equal(frame.queues.total, 10, 'q10 to q19 match "q1"');
    assert.deepEqual(
      frame.queues.items.map((q) => q.queue),
      [],
      'offset 10 of 10 matches is past the end',
    );
    assert.ok(Array.isArray(frame.history), 'the first frame carries the chart so far');
    const second = (await stream.nextEvent('cluster')) as { history?: unknown };
    assert.equal(second.history, undefined, 'later frames carry one point only');

    const paged = await openStream(`${server.url}/api/events?queueOffset=2&queueLimit=3&queueFilter=q1`);
    const page = (await paged.nextEvent('cluster')) as { queues: { items: Array<{ queue: string }> } };
    assert.deepEqual(
      page.queues.items.map((q) => q.queue),
      ['q12', 'q13', 'q14'],
    );

    stream.close();
    paged.close();
    await sleep(300);
    const readsAtClose = backend.reads();
    await sleep(2500);
    assert.equal(backend.reads(), readsAtClose, 'no reading of the cluster once no client listens');

    // A server with a page still open closes at once: it ends the stream itself.
    const lingering = await openStream(`${server.url}/api/events`);
    await lingering.nextEvent('cluster');
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 2000, `closing took ${Date.now() - started} ms`);
    await lingering.ended;
  } finally {
    await server.close().catch(() => {});
    await backend.close();
  }
});

async function waitForText(page: Page, selector: string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, source }) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ''),
    { selector, source: pattern.source },
    { timeout: timeoutMs },
  );
}

/** The backend, counting how often the cluster is read (broker.stats is called once per reading). */
function countingReads(backend: Backend): Backend & { reads(): number } {
  let reads = 0;
  const stats = backend.broker.stats.bind(backend.broker);
  backend.broker.stats = (queues) => {
    reads++;
    return stats(queues);
  };
  return Object.assign(backend, { reads: () => reads });
}

interface OpenStream {
  contentType: string;
  nextEvent(name: string): Promise<unknown>;
  close(): void;
  ended: Promise<void>;
}

/** A bare server-sent-events client over node:http, to see exactly what goes over the wire. */
function openStream(url: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (response) => {
      let buffer = '';
      const events: Array<{ name: string; data: string }> = [];
      const waiters: Array<() => void> = [];
      response.setEncoding('utf8');
      response.on('error', () => {});
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name && data) events.push({ name, data });
          waiters.splice(0).forEach((wake) => wake());
        }
      });
      const ended = new Promise<void>((done) => response.on('close', done));
      resolve({
        contentType: String(response.headers['content-type']),
        async nextEvent(name) {
          const deadline = Date.now() + 5000;
          for (;;) {
            const index = events.findIndex((event) => event.name === name);
            if (index >= 0) return JSON.parse(events.splice(index, 1)[0]!.data);
            if (Date.now() > deadline) throw new Error(`no "${name}" event within 5 s`);
            await new Promise<void>((wake) => {
              waiters.push(wake);
              setTimeout(wake, 200);
            });
          }
        },
        close: () => request.destroy(),
        ended,
      });
    });
    request.on('error', reject);
  });
}
