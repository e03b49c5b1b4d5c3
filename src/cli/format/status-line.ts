/** The slice of a terminal stream a redrawn line needs; tests pass a fake. */
export interface LineTerminal {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * One line redrawn in place on a terminal. It is cut to the terminal's width:
 * a line that wrapped could no longer be erased with a carriage return.
 */
export class StatusLine {
  private drawn = false;

  constructor(private readonly out: LineTerminal) {}

  draw(text: string): void {
    const width = Math.max(10, (this.out.columns || 80) - 1); // 0 when a pty has no size set
    const chars = [...text];
    this.out.write(CLEAR_LINE + (chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text));
    this.drawn = true;
  }

  /** Erases the line, so what follows starts on a clean one. */
  clear(): void {
    if (this.drawn) this.out.write(CLEAR_LINE);
    this.drawn = false;
  }
}

/** Elapsed time that reads steadily while it ticks: "0.4s", "12.3s", then "2m5s". */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}
