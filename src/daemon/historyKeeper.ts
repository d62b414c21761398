import path from 'node:path';
import { HISTORY_FILE, openRunHistory, type RunHistory } from '../purge/runHistory.js';
import type { StateWriteHealth } from './stateHealth.js';

/**
 * The purge history for the daemon's runs: read from disk before each run (so that a
 * `state reset-history` takes effect), except while it cannot be written, when the runs
 * recorded in memory are kept and the next run saves them again.
 */
export class HistoryKeeper {
  private unsaved?: RunHistory;

  constructor(
    private readonly directory: () => string,
    private readonly health: StateWriteHealth,
  ) {}

  open(): Promise<RunHistory> {
    return this.unsaved ? Promise.resolve(this.unsaved) : openRunHistory(this.directory());
  }

  saved(history: RunHistory, error?: Error): void {
    this.unsaved = error ? history : undefined;
    this.health.report(path.join(this.directory(), HISTORY_FILE), error);
  }
}
