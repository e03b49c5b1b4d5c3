import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Runs `work` with a fresh directory under the system's temp dir, removed afterwards whatever happens. */
export async function withTempDir<T>(label: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gaffer-bench-${label}-`));
  try {
    return await work(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
