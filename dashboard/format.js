// Formatting of numbers, durations and times for the tables: short, and the same everywhere.

const grouping = new Intl.NumberFormat('en-US');

export function count(n) {
  return n === undefined || n === null ? '–' : grouping.format(n);
}

export function rate(perSecond) {
  if (!perSecond) return '0';
  if (perSecond >= 100) return `${Math.round(perSecond)}/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(1)}/s`;
  return `${(perSecond * 60).toFixed(1)}/min`;
}

export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '–';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** p50 / p95 of a { p50, p95 } pair, or a dash before any task finished. */
export function percentiles(pair) {
  return pair ? `${duration(pair.p50)} / ${duration(pair.p95)}` : '–';
}

export function bytes(n) {
  if (n === undefined || n === null) return '–';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${Math.round(n / (1024 * 1024))} MB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** How long ago `ms` was, by the server's clock (`now` is the frame's time), so a skewed browser clock does not matter. */
export function ago(ms, now) {
  return `${duration(Math.max(0, now - ms))} ago`;
}

/** Ids are long: their end tells them apart, the full id is in the title. */
export function shortId(id) {
  return id.length > 14 ? `…${id.slice(-12)}` : id;
}

export function poolName(pool) {
  return `${pool.hostname} · ${pool.pid}`;
}
