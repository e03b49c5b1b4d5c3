/**
 * How the demo shows itself: a frame redrawn in place a few times a second
 * on a terminal, or plain lines (a status line a second, and the events) when
 * the output is a pipe or a file.
 */
export interface DemoView {
  frame(lines: readonly string[], statusLine: string): void;
  event(line: string): void;
  close(): void;
}

export function createView(out: NodeJS.WriteStream): DemoView {
  return out.isTTY ? new RedrawingView(out) : new PlainView(out);
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_LINE = '\x1b[2K';
const up = (lines: number) => (lines > 0 ? `\x1b[${lines}A` : '');

class RedrawingView implements DemoView {
  private drawn: readonly string[] = [];

  constructor(private readonly out: NodeJS.WriteStream) {
    out.write(HIDE_CURSOR);
  }

  frame(lines: readonly string[]): void {
    this.out.write(this.erase() + lines.map((line) => `${CLEAR_LINE}${line}\n`).join(''));
    this.drawn = lines;
  }

  /** An event line goes above the frame and stays. */
  event(line: string): void {
    const frame = this.drawn;
    this.out.write(`${this.erase()}${CLEAR_LINE}${line}\n`);
    this.drawn = [];
    if (frame.length) this.frame(frame);
  }

  close(): void {
    this.out.write(SHOW_CURSOR);
  }

  private erase(): string {
    return up(this.drawn.length) + '\r';
  }
}

class PlainView implements DemoView {
  private lastStatusAt = 0;

  constructor(private readonly out: NodeJS.WritableStream) {}

  frame(_lines: readonly string[], statusLine: string): void {
    const now = Date.now();
    if (now - this.lastStatusAt < 1000) return;
    this.lastStatusAt = now;
    this.out.write(`${statusLine}\n`);
  }

  event(line: string): void {
    this.out.write(`${line}\n`);
  }

  close(): void {}
}
