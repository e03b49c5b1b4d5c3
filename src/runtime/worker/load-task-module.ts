import { pathToFileURL } from 'node:url';
import { TaskModuleError } from '../../core/errors.js';
import { collectTaskTypes, type AnyTaskType } from '../../core/task-type.js';

/** Imports the user's task module; only what it registers can ever run (no code comes from a message). */
export async function loadTaskModule(modulePath: string): Promise<Map<string, AnyTaskType>> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new TaskModuleError(`cannot load the task module ${modulePath}: ${(error as Error).stack ?? String(error)}`, { cause: error });
  }
  return collectTaskTypes(namespace, modulePath);
}
