import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ConfigError } from '../../core/errors.js';

export interface NumberedLine {
  /** 1-based, as editors count. */
  number: number;
  text: string;
}

export interface LineSource {
  /** What to call it in messages: the path, or "stdin". */
  name: string;
  /** Its size in bytes, when known (a regular file): progress is then a fraction of it. */
  sizeBytes?: number;
  /** Bytes read so far, for the fraction done. */
  bytesRead(): number;
  lines(): AsyncIterable<NumberedLine>;
  close(): void;
}

/** A task file, or stdin for "-": read line by line, so a file of millions of tasks never sits in memory. */
export function openLineSource(path: string): LineSource {
  let input: Readable;
  let sizeBytes: number | undefined;
  let name: string;
  if (path === '-') {
    input = process.stdin;
    name = 'stdin';
  } else {
    name = path;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${describeFsError(error)}; pass a JSON Lines file of tasks with --file, or - for stdin`);
    }
    if (stat.isDirectory()) throw new ConfigError(`${path} is a directory; pass a JSON Lines file of tasks with --file`);
    if (stat.isFile()) sizeBytes = stat.size;
    input = fs.createReadStream(path);
  }
  let bytes = 0;
  const reader = readline.createInterface({ input, crlfDelay: Infinity });
  return {
    name,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    bytesRead: () => bytes,
    async *lines() {
      let number = 0;
      try {
        for await (const raw of reader) {
          number++;
          bytes += Buffer.byteLength(raw) + 1;
          // An editor's byte-order mark is not part of the first task.
          yield { number, text: number === 1 ? raw.replace(/^\uFEFF/, '') : raw };
        }
      } catch (error) {
        throw new ConfigError(`cannot read ${name}: ${describeFsError(error)}`);
      }
    },
    close() {
      reader.close();
      if (input !== process.stdin) input.destroy();
    },
  };
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}
