import { resolveTaskSettings, type ResolvedTaskSettings } from '../../core/pool-settings.js';
import type { CatalogEntry } from '../ipc/messages.js';

/**
 * The task types the workers loaded, with their settings resolved against
 * the pool's defaults. The manager never loads the user's module itself: it
 * learns the catalog from the workers' hello.
 */
export class TaskCatalog {
  private readonly byName = new Map<string, ResolvedTaskSettings>();

  constructor(private readonly defaults: ResolvedTaskSettings) {}

  learn(entries: readonly CatalogEntry[]): void {
    for (const entry of entries) this.byName.set(entry.name, resolveTaskSettings(entry.settings, this.defaults));
  }

  /** Settings for a type; the defaults for one the module does not define (the worker will refuse it). */
  settingsFor(type: string): ResolvedTaskSettings {
    return this.byName.get(type) ?? this.defaults;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
