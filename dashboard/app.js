// The dashboard: one event stream (/api/events) feeds every table and the chart; writes go to the JSON API.
import { clearNotice, notice, setUpTokenForm, write } from './api.js';
import { describe, LoadChart } from './chart.js';
import { el, Pager, setText, syncRows } from './dom.js';
import { ago, bytes, clock, count, duration, percentiles, poolName, rate, shortId } from './format.js';

const $ = (id) => document.getElementById(id);

/** What the client shows: the event stream sends these pages (see the server's dashboard query). */
const view = {
  queueOffset: 0,
  queueLimit: 25,
  queueFilter: '',
  queueSort: 'name',
  poolOffset: 0,
  poolLimit: 10,
  workerOffset: 0,
  workerLimit: 25,
  workerState: 'all',
  deadOffset: 0,
  deadLimit: 20,
  focus: new URLSearchParams(location.hash.slice(1)).get('focus') ?? '',
};

const DECISIONS_LISTED = 30;
const STALE_MS = 5000;
const RECONNECT_MS = 3000;

let stream;
let reconnectTimer;
let lastFrameAt = 0;
let frames = 0;
/** Decisions seen on this focus, by key, oldest first. */
let decisions = new Map();

const chart = new LoadChart($('chart'));
const pagers = {
  queues: new Pager($('queues-pager'), view.queueLimit, (offset) => change({ queueOffset: offset })),
  pools: new Pager($('pools-pager'), view.poolLimit, (offset) => change({ poolOffset: offset })),
  workers: new Pager($('workers-pager'), view.workerLimit, (offset) => change({ workerOffset: offset })),
  dead: new Pager($('dead-pager'), view.deadLimit, (offset) => change({ deadOffset: offset })),
};

// For people poking at the page from the console, and for the end-to-end test.
window.gafferDashboard = {
  chart,
  get frames() {
    return frames;
  },
  get decisions() {
    return [...decisions.values()];
  },
};

// ---- the event stream ----------------------------------------------------

function connect() {
  stream?.close();
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(view)) if (value !== '' && value !== undefined) query.set(name, String(value));
  const newest = [...decisions.values()].at(-1);
  if (newest) query.set('since', String(Math.floor(newest.at)));
  stream = new EventSource(`/api/events?${query}`);
  stream.addEventListener('cluster', (event) => render(JSON.parse(event.data)));
  stream.addEventListener('problem', (event) => {
    const problem = JSON.parse(event.data);
    notice(`${problem.message} (${problem.code})`, 'error', 'stream');
  });
  stream.addEventListener('open', () => setLive('live', 'live'));
  stream.addEventListener('error', () => {
    setLive('down', 'reconnecting…');
    // The browser retries a dropped stream by itself, but gives up on a refused one (a server starting, a proxy error): retry anyway.
    if (stream.readyState === EventSource.CLOSED) {
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(connect, RECONNECT_MS);
    }
  });
}

/** Changes what is shown; the stream restarts with the new pages (a little later while typing). */
function change(patch, delayMs = 0) {
  const focusChanged = 'focus' in patch && patch.focus !== view.focus;
  Object.assign(view, patch);
  if (focusChanged) {
    Object.assign(view, { poolOffset: 0, workerOffset: 0, deadOffset: 0 });
    for (const pager of [pagers.pools, pagers.workers, pagers.dead]) pager.reset();
    decisions = new Map();
    chart.reset();
    history.replaceState(null, '', view.focus ? `#focus=${encodeURIComponent(view.focus)}` : location.pathname);
  }
  // No frame of the old pages may land after this.
  stream?.close();
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, delayMs);
}

function setLive(state, text) {
  const live = $('live');
  live.dataset.state = state;
  setText(live, text);
}

setInterval(() => {
  if (lastFrameAt && Date.now() - lastFrameAt > STALE_MS && $('live').dataset.state === 'live') setLive('stale', 'no news for a while…');
}, 1000);

// ---- rendering -----------------------------------------------------------

function render(frame) {
  frames++;
  lastFrameAt = Date.now();
  setLive('live', 'live');
  clearNotice('stream');
  setText($('backend'), frame.backend);
  $('focus-bar').hidden = !frame.focus;
  setText($('focus-name'), frame.focus ?? '');

  renderTotals(frame);
  const fresh = frame.decisions.filter((d) => !decisions.has(keyOf(d)));
  for (const d of fresh) decisions.set(keyOf(d), d);
  while (decisions.size > 500) decisions.delete(decisions.keys().next().value);
  if (frame.history) {
    chart.reset(frame.history);
    chart.addDecisions([...decisions.values()]);
  } else {
    chart.addDecisions(fresh);
  }
  chart.push(frame.point);
  $('chart').dataset.points = String(chart.pointCount);

  renderPools(frame);
  renderQueues(frame);
  renderWorkers(frame);
  renderDead(frame);
  renderFailures(frame);
  if (fresh.length > 0 || frame.history || frames === 1) renderDecisions();
}

function keyOf(d) {
  return `${d.poolId}|${d.at}|${d.from}|${d.to}|${d.reason}`;
}

const TILES = ['queues', 'pools', 'workers', 'ready', 'running', 'delayed', 'dead'];

function renderTotals({ totals }) {
  const tiles = {
    queues: [count(totals.queues), totals.paused ? `${count(totals.paused)} paused` : ''],
    pools: [count(totals.pools), ''],
    workers: [count(totals.workers), `${count(totals.busy)} busy · ${count(totals.desired)} desired`],
    ready: [count(totals.ready), totals.blocked ? `+ ${count(totals.blocked)} behind a key` : ''],
    running: [count(totals.running), ''],
    delayed: [count(totals.delayed), ''],
    dead: [count(totals.dead), ''],
  };
  const summary = $('summary');
  if (summary.children.length === 0) {
    for (const name of TILES) summary.append(el('div.tile', { dataset: { tile: name } }, el('div.value'), el('div.label', {}, name), el('div.sub')));
  }
  for (const tile of summary.children) {
    const [value, sub] = tiles[tile.dataset.tile];
    setText(tile.children[0], value);
    setText(tile.children[2], sub);
  }
  summary.querySelector('[data-tile="dead"]').dataset.alert = String(totals.dead > 0);
}

function renderPools(frame) {
  const now = frame.at;
  pagers.pools.show(frame.pools);
  syncRows(
    $('pools-body'),
    frame.pools.items,
    (pool) => pool.id,
    [
      { update: (td, pool) => setText(td, poolName(pool), pool.id) },
      { make: (td) => td.append(focusLink()), update: (td, pool) => updateFocusLink(td.firstChild, pool.queue) },
      {
        cls: 'num',
        update: (td, pool) => setText(td, `${pool.live}${pool.busy ? ` (${pool.busy} busy)` : ''}`, 'live workers (busy ones)'),
      },
      { cls: 'num strong', update: (td, pool) => setText(td, String(pool.desired)) },
      { make: limitControls, update: updateLimitControls },
      { update: (td, pool) => renderLastDecision(td, pool, now) },
      {
        update: (td, pool) => {
          const states = [pool.draining ? 'draining' : '', pool.paused ? 'paused' : ''].filter(Boolean);
          setText(td, states.join(', ') || 'serving', `heartbeat ${ago(pool.heartbeatAt, now)} · up ${duration(now - pool.startedAt)}`);
          td.className = states.length ? 'badge-cell warn' : 'badge-cell';
        },
      },
    ],
    view.focus ? `no pool serves ${view.focus}` : 'no pool is running: start one with `gaffer up --tasks <module>`',
  );
}

function limitControls(td, pool) {
  const min = el('input', { type: 'number', min: 0, step: 1, 'aria-label': 'min workers', name: 'min' });
  const max = el('input', { type: 'number', min: 1, step: 1, 'aria-label': 'max workers', name: 'max' });
  for (const input of [min, max]) input.addEventListener('input', () => (input.dataset.dirty = 'true'));
  const apply = el('button', { type: 'button', class: 'apply' }, 'apply');
  const reset = el('button', { type: 'button', class: 'quiet', title: "give the pool back its own min and max" }, 'reset');
  apply.addEventListener('click', async () => {
    const limits = { min: Number(min.value), max: Number(max.value) };
    if (!Number.isInteger(limits.min) || !Number.isInteger(limits.max) || limits.min < 0 || limits.max < 1 || limits.min > limits.max) {
      notice('min and max are whole numbers, max at least 1 and min at most max', 'error');
      return;
    }
    await act(apply, () => write('PUT', `/api/pools/${encodeURIComponent(pool.id)}/limits`, limits), `${poolName(pool)}: min ${limits.min}, max ${limits.max}`);
    delete min.dataset.dirty;
    delete max.dataset.dirty;
  });
  reset.addEventListener('click', async () => {
    await act(reset, () => write('DELETE', `/api/pools/${encodeURIComponent(pool.id)}/limits`), `${poolName(pool)}: back to its own min and max`);
    delete min.dataset.dirty;
    delete max.dataset.dirty;
  });
  td.append(el('span.limits', {}, min, el('span.muted', {}, '–'), max, apply, reset));
}

function updateLimitControls(td, pool) {
  const [min, , max] = td.firstChild.children;
  // Never overwrite what someone is typing.
  if (!min.dataset.dirty && document.activeElement !== min) min.value = String(pool.min);
  if (!max.dataset.dirty && document.activeElement !== max) max.value = String(pool.max);
}

function renderLastDecision(td, pool, now) {
  const d = pool.lastDecision;
  if (!d) {
    setText(td, 'no decision yet: the pool started at its minimum');
    return;
  }
  td.replaceChildren(
    el('span', { class: `reason reason-${d.reason}` }, d.reason),
    ` ${d.from} → ${d.to} · ${ago(d.at, now)}`,
    el('div.detail', {}, d.detail),
  );
}

function renderQueues(frame) {
  pagers.queues.show(frame.queues);
  syncRows(
    $('queues-body'),
    frame.queues.items,
    (q) => q.queue,
    [
      { make: (td) => td.append(focusLink()), update: (td, q) => updateFocusLink(td.firstChild, q.queue) },
      numeric((q) => count(q.ready)),
      numeric((q) => count(q.blocked)),
      numeric((q) => count(q.running)),
      numeric((q) => count(q.delayed)),
      { cls: 'num', update: (td, q) => { setText(td, count(q.dead)); td.dataset.alert = q.dead > 0 ? 'true' : 'false'; } },
      numeric((q) => rate(q.arrivalsPerSecond)),
      numeric((q) => rate(q.completedPerSecond)),
      numeric((q) => percentiles(q.waitMs)),
      numeric((q) => percentiles(q.runMs)),
      numeric((q) => `${q.workers} / ${q.pools}`),
      {
        make: (td, q) => td.append(el('button', { type: 'button', onclick: (event) => togglePause(event.currentTarget, q.queue) })),
        update: (td, q) => {
          const button = td.firstChild;
          button.dataset.paused = String(q.paused);
          setText(button, q.paused ? 'resume' : 'pause', q.paused ? 'paused: pools take none of its tasks' : 'stop pools taking its tasks (running ones go on)');
          td.className = q.paused ? 'paused' : '';
        },
      },
    ],
    view.queueFilter ? `no queue name contains "${view.queueFilter}"` : 'no queues yet: enqueue a task',
  );
}

function numeric(text) {
  return { cls: 'num', update: (td, item) => setText(td, text(item)) };
}

function focusLink() {
  return el('a', { href: '#', title: 'focus the chart and the tables on this queue' });
}

function updateFocusLink(link, queue) {
  setText(link, queue);
  link.onclick = (event) => {
    event.preventDefault();
    change({ focus: queue });
  };
}

async function togglePause(button, queue) {
  const resume = button.dataset.paused === 'true';
  await act(button, () => write('POST', `/api/queues/${encodeURIComponent(queue)}/${resume ? 'resume' : 'pause'}`), `${queue} ${resume ? 'resumed' : 'paused'}`);
}

function renderWorkers(frame) {
  const now = frame.at;
  pagers.workers.show(frame.workers);
  syncRows(
    $('workers-body'),
    frame.workers.items,
    (w) => `${w.poolId}:${w.pid}`,
    [
      { update: (td, w) => setText(td, `${w.hostname} · ${w.poolPid}`, `pool ${w.poolId} (queue ${w.queue})`) },
      numeric((w) => String(w.pid)),
      { update: (td, w) => { setText(td, w.state); td.className = `state state-${w.state}`; } },
      { cls: 'nowrap', update: (td, w) => setText(td, w.taskId ? `${w.taskType ?? '?'} ${shortId(w.taskId)}` : '', w.taskId ?? '') },
      numeric((w) => (w.taskStartedAt ? duration(now - w.taskStartedAt) : '')),
      numeric((w) => count(w.tasksDone)),
      numeric((w) => bytes(w.rssBytes)),
      numeric((w) => duration(now - w.startedAt)),
    ],
    view.workerState === 'busy' ? 'no worker is busy' : 'no workers',
  );
}

function renderDead(frame) {
  const now = frame.at;
  pagers.dead.show(frame.dead);
  syncRows(
    $('dead-body'),
    frame.dead.items,
    (d) => d.id,
    [
      { cls: 'nowrap', update: (td, d) => setText(td, shortId(d.id), `${d.id}\npayload: ${d.payload}`) },
      { update: (td, d) => setText(td, d.queue) },
      { update: (td, d) => setText(td, d.type) },
      { cls: 'reason-text', update: (td, d) => setText(td, d.reason, d.reason) },
      numeric((d) => ago(d.deadAt, now)),
      {
        make: (td, d) =>
          td.append(
            el('button', { type: 'button', class: 'retry', onclick: (event) => retryDead(event.currentTarget, d.id) }, 'retry'),
            el('button', { type: 'button', class: 'quiet', onclick: (event) => purgeDead(event.currentTarget, d.id) }, 'purge'),
          ),
        update: () => {},
      },
    ],
    'no dead letters',
  );
}

async function retryDead(button, id) {
  await act(button, () => write('POST', `/api/dead/${encodeURIComponent(id)}/retry`), `${shortId(id)} is back in its queue`);
}

async function purgeDead(button, id) {
  if (!confirm(`Delete dead letter ${id} for good?`)) return;
  await act(button, () => write('DELETE', `/api/dead/${encodeURIComponent(id)}`), `${shortId(id)} purged`);
}

function renderFailures(frame) {
  const now = frame.at;
  syncRows(
    $('failures-body'),
    frame.failures,
    (f) => `${f.id}|${f.at}|${f.state}`,
    [
      numeric((f) => ago(f.at, now)),
      { update: (td, f) => { setText(td, f.state); td.className = `state state-${f.state}`; } },
      { cls: 'nowrap', update: (td, f) => setText(td, `${f.type} ${shortId(f.id)}`, f.id) },
      { cls: 'reason-text', update: (td, f) => setText(td, f.message, f.message) },
    ],
    'none seen here (failed attempts are listed by the server that runs beside their pool; dead letters, from every pool)',
  );
}

function renderDecisions() {
  const list = $('decisions');
  const newest = [...decisions.values()].slice(-DECISIONS_LISTED).reverse();
  list.replaceChildren(...newest.map((d) => el('li', {}, describe(d))));
  if (newest.length === 0) list.append(el('li.muted', {}, 'no scaling decision in the last minutes'));
}

/** Runs a write from a button: the button is disabled meanwhile; the outcome is a notice. */
async function act(button, request, done) {
  button.disabled = true;
  try {
    await request();
    notice(done);
  } catch {
    // write() has shown why.
  } finally {
    button.disabled = false;
  }
}

// ---- controls ------------------------------------------------------------

setUpTokenForm();
$('focus-clear').addEventListener('click', () => change({ focus: '' }));
$('queue-filter').addEventListener('input', (event) => {
  pagers.queues.reset();
  change({ queueFilter: event.target.value.trim(), queueOffset: 0 }, 250);
});
$('queue-sort').addEventListener('change', (event) => {
  pagers.queues.reset();
  change({ queueSort: event.target.value, queueOffset: 0 });
});
$('busy-only').addEventListener('change', (event) => {
  pagers.workers.reset();
  change({ workerState: event.target.checked ? 'busy' : 'all', workerOffset: 0 });
});
$('chart-window').addEventListener('change', (event) => chart.setWindow(Number(event.target.value)));
document.getElementById('notice').addEventListener('click', (event) => (event.currentTarget.hidden = true));
window.addEventListener('hashchange', () => change({ focus: new URLSearchParams(location.hash.slice(1)).get('focus') ?? '' }));

connect();
