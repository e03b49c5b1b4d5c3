import { spawnSync } from 'node:child_process';

/** Long enough for node to start and parse a big file on a busy machine; it runs only when loading already failed. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * Where a SyntaxError in a task module is: its file and line, the line, and
 * a caret under the culprit. Node prints that for an import that nothing
 * catches, but keeps it from the error that a dynamic import() rejects with,
 * whose stack shows only node's own frames. So this asks `node --check`,
 * which parses the file without running any of it.
 *
 * Returns null when the file itself parses: the error is then in a module it
 * imports (which --check does not follow), or node could not be asked.
 */
export function locateSyntaxError(modulePath: string): string | null {
  const check = spawnSync(process.execPath, ['--check', modulePath], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
  if (check.status === 0 || check.error || typeof check.stderr !== 'string') return null;
  // "<file>:<line>", the line, the caret; then a blank line, the error and node's own frames.
  const location = check.stderr.split(/\n\s*\n/)[0]?.trimEnd();
  return location ? location : null;
}
