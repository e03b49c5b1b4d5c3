import { progressBar } from './progress-bar.js';
import { formatElapsed, StatusLine, type LineTerminal } from './status-line.js';

export interface ProgressState {
  /** How far along, 0..1; unknown (reading a pipe, say) when absent. */
  fraction?: number;
  /** What has been done so far, e.g. "1,200 tasks (1,190 new, 10 existed already)". */
  text: string;
}

/** Shows how far a long command is; `finish` leaves the output clean for the summary. */
export interface Progress {
  update(state: ProgressState): void;
  finish(): void;
}

export const silentProgress: Progress = { update() {}, finish() {} };

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** A bar redrawn in place, at most ten times a second (a terminal cannot show more). */
export function barProgress(out: LineTerminal, now: () => number = Date.now): Progress {
  const line = new StatusLine(out);
  const startedAt = now();
  let drawnAt = -Infinity;
  return {
    update({ fraction, text }) {
      const at = now();
      if (at - drawnAt < REDRAW_MS) return;
      drawnAt = at;
      const bar = fraction === undefined ? '' : `[${progressBar(fraction, BAR_WIDTH)}] ${Math.floor(fraction * 100)}%  `;
      line.draw(`${bar}${text} · ${formatElapsed(at - startedAt)}`);
    },
    finish() {
      line.clear();
    },
  };
}

/**
 * Plain lines for a pipe or a log: one per tenth of the way, or every few
 * seconds when the tenths come slowly, so a log shows progress without
 * drowning in it.
 */
export function lineProgress(out: { write(text: string): unknown }, options: { everyMs?: number; now?: () => number } = {}): Progress {
  const everyMs = options.everyMs ?? 5000;
  const now = options.now ?? Date.now;
  let lastTenth = 0;
  let lastAt = now();
  return {
    update({ fraction, text }) {
      const at = now();
      const tenth = fraction === undefined ? lastTenth : Math.floor(fraction * 10);
      if (tenth <= lastTenth && at - lastAt < everyMs) return;
      lastTenth = Math.max(lastTenth, tenth);
      lastAt = at;
      out.write(`${text}${fraction === undefined ? '' : ` (${Math.floor(fraction * 100)}%)`}\n`);
    },
    finish() {},
  };
}
