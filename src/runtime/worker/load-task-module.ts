import { pathToFileURL } from 'node:url';
import { TaskModuleError } from '../../core/errors.js';
import { collectTaskTypes, type AnyTaskType } from '../../core/task-type.js';

/** Imports the user's task module; only what it registers can ever run (no code comes from a message). */
export async function loadTaskModule(modulePath: string): Promise<Map<string, AnyTaskType>> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new TaskModuleError(`cannot load the task module ${modulePath}: ${await describeLoadError(error, modulePath)}`, { cause: error });
  }
  return collectTaskTypes(namespace, modulePath);
}

async function describeLoadError(error: unknown, modulePath: string): Promise<string> {
  if (!isParseError(error)) return (error as Error)?.stack ?? String(error);
  // Node's own frames say nothing here; where the code fails to parse says everything. Imported only now: node's
  // child_process module would add milliseconds to every worker's start.
  const { locateSyntaxError } = await import('./syntax-error-location.js');
  const location = locateSyntaxError(modulePath);
  const what = `${error.name}: ${error.message}`;
  return location ? `${what}\n${location}` : `${what}, in a module that it imports (\`node --check ${modulePath}\` finds none in the file itself)`;
}

/**
 * A module that does not parse: the import rejects with a SyntaxError whose
 * stack has only node's frames and this loader's. (One that a module's code
 * throws while it runs, from JSON.parse say, has that code's frames, and
 * keeps its stack.)
 */
function isParseError(error: unknown): error is SyntaxError {
  if (!(error instanceof SyntaxError)) return false;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return frames.every((frame) => /\(node:|at node:/.test(frame) || frame.includes(import.meta.url));
}
