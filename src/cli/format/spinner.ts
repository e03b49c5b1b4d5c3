import { formatElapsed, StatusLine, type LineTerminal } from './status-line.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

export interface Spinner {
  /** What is being waited for; shown next to the elapsed time. */
  setLabel(label: string): void;
  /** Erases the spinner's line; safe to call twice. */
  stop(): void;
}

/**
 * A spinner with the time elapsed, on a terminal only: in a pipe or a file
 * it would be noise, so there it draws nothing.
 */
export function startSpinner(out: LineTerminal, label: string, now: () => number = Date.now): Spinner {
  if (!out.isTTY) return { setLabel() {}, stop() {} };
  const line = new StatusLine(out);
  const startedAt = now();
  let frame = 0;
  let text = label;
  const draw = () => line.draw(`${FRAMES[frame++ % FRAMES.length]} ${text} · ${formatElapsed(now() - startedAt)}`);
  draw();
  // Never the reason the process stays alive.
  const timer = setInterval(draw, FRAME_MS).unref();
  let stopped = false;
  return {
    setLabel(next) {
      text = next;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      line.clear();
    },
  };
}
