// The time chart (uPlot): queue depth, running tasks, desired and actual workers, and a line per scaling decision.
import { el } from './dom.js';
import { clock, duration, rate } from './format.js';

const uPlot = window.uPlot;
const HEIGHT = 260;
const HOVER_PX = 6;
const MIN_SPAN_MS = 60_000;
const COLORS = { queued: '#2f6bd8', running: '#1f9d83', desired: '#d9480f', workers: '#6b46c1', up: '#2b8a3e', down: '#c2410c', same: '#868e96' };

export class LoadChart {
  constructor(container) {
    this.container = container;
    this.windowMs = 10 * 60_000;
    this.now = Date.now();
    this.decisions = [];
    this.data = [[], [], [], [], []];
    this.tip = el('div.tip', { role: 'tooltip', hidden: true });
    const stepped = uPlot.paths.stepped({ align: 1 });
    const workerRange = (_u, _min, max) => [0, Math.max(2, Math.ceil((max ?? 0) * 1.15))];
    this.plot = new uPlot(
      {
        width: Math.max(320, container.clientWidth),
        height: HEIGHT,
        cursor: { points: { size: 6 } },
        scales: {
          x: { time: true, range: () => this.xRange() },
          tasks: { range: workerRange },
          workers: { range: workerRange },
        },
        axes: [
          { stroke: '#555' },
          { scale: 'tasks', label: 'queued tasks', stroke: '#555', size: 56 },
          { scale: 'workers', label: 'running tasks · workers', side: 1, stroke: '#555', grid: { show: false }, size: 56 },
        ],
        series: [
          { label: 'time', value: (_u, v) => (v === null ? '–' : clock(v * 1000)) },
          { label: 'queued', scale: 'tasks', stroke: COLORS.queued, fill: 'rgba(47,107,216,0.08)', width: 2 },
          { label: 'running', scale: 'workers', stroke: COLORS.running, width: 2 },
          { label: 'desired workers', scale: 'workers', stroke: COLORS.desired, width: 2, dash: [6, 4], paths: stepped },
          { label: 'workers', scale: 'workers', stroke: COLORS.workers, width: 2, paths: stepped },
        ],
        hooks: {
          draw: [(u) => this.drawDecisions(u)],
          setCursor: [(u) => this.hover(u)],
        },
      },
      this.data,
      container,
    );
    this.plot.over.append(this.tip);
    new ResizeObserver(() => {
      const width = Math.max(320, this.container.clientWidth);
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    }).observe(container);
  }

  /** Starts over (another focus): `points` is the server's record of the last minutes. */
  reset(points = []) {
    this.data = [[], [], [], [], []];
    this.decisions = [];
    for (const point of points) this.append(point);
    this.redraw();
  }

  push(point) {
    const last = this.data[0].at(-1);
    if (last !== undefined && point.at / 1000 <= last) return;
    this.append(point);
    this.now = point.at;
    const cutoff = (point.at - 10 * 60_000) / 1000;
    while (this.data[0].length > 0 && this.data[0][0] < cutoff) this.data.forEach((column) => column.shift());
    this.decisions = this.decisions.filter((d) => d.at / 1000 >= cutoff);
    this.redraw();
  }

  addDecisions(decisions) {
    this.decisions.push(...decisions);
  }

  setWindow(ms) {
    this.windowMs = ms;
    this.redraw();
  }

  /** The chosen window, but no wider than the data (and at least a minute): a page opened a moment ago is not a line in a corner. */
  xRange() {
    const first = this.data[0][0] ?? this.now / 1000;
    const start = Math.max((this.now - this.windowMs) / 1000, Math.min(first, (this.now - MIN_SPAN_MS) / 1000));
    return [start, this.now / 1000];
  }

  get pointCount() {
    return this.data[0].length;
  }

  append(point) {
    this.data[0].push(point.at / 1000);
    this.data[1].push(point.queued);
    this.data[2].push(point.running);
    this.data[3].push(point.desired);
    this.data[4].push(point.workers);
  }

  redraw() {
    this.plot.setData(this.data);
  }

  drawDecisions(u) {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    for (const decision of this.decisions) {
      const x = Math.round(u.valToPos(decision.at / 1000, 'x', true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      const color = decision.to > decision.from ? COLORS.up : decision.to < decision.from ? COLORS.down : COLORS.same;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      // A small flag on top: easier to find with the mouse than a dashed line.
      const size = 5 * devicePixelRatio;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x - size, bbox.top);
      ctx.lineTo(x + size, bbox.top);
      ctx.lineTo(x, bbox.top + size * 1.4);
      ctx.closePath();
      ctx.fill();
    }
    ctx.restore();
  }

  /** The reason and detail of the decisions under the cursor. */
  hover(u) {
    const left = u.cursor.left;
    const near = left === undefined || left < 0 ? [] : this.decisions.filter((d) => Math.abs(u.valToPos(d.at / 1000, 'x') - left) <= HOVER_PX);
    if (near.length === 0) {
      this.tip.hidden = true;
      return;
    }
    this.tip.replaceChildren(...near.slice(-4).map(describe));
    this.tip.hidden = false;
    const width = u.over.clientWidth;
    const placeLeft = left > width * 0.6;
    this.tip.style.left = placeLeft ? '' : `${left + 12}px`;
    this.tip.style.right = placeLeft ? `${width - left + 12}px` : '';
  }
}

/** One decision as the hover tip and the decision log show it. */
export function describe(decision) {
  const o = decision.observation ?? {};
  return el(
    'div.decision',
    {},
    el('div.head', {}, el('b', {}, `${decision.from} → ${decision.to} workers`), ` · ${decision.reason} · ${clock(decision.at)}`),
    el('div', {}, decision.detail),
    el(
      'div.muted',
      {},
      `saw ${o.ready ?? '?'} ready, ${o.running ?? '?'} running, arrivals ${rate(o.arrivalRate)}, service ${duration(o.serviceMs)}; wanted ${decision.want} · pool ${decision.poolId}`,
    ),
  );
}
