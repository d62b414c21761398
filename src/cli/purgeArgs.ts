import { parseIsoInstant } from '../core/isoInstant.js';
import type { LogLevel } from '../config/logLevels.js';
import { ConnectError, DatabaseRefusedError } from '../errors.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { UsageError, type Io } from './io.js';

// What `purge` (and `purge --plan`, `--save-plan`) is asked, and the exit code its results give.
export interface PurgeArgs {
  config: string;
  dryRun: boolean;
  json: boolean;
  nodes?: string[];
  chatTypes?: string[];
  asOf?: string;
  logLevel?: LogLevel;
  /** After the purge, run the alarm checks and deliver raises and clears (the systemd timer). */
  alarms?: boolean;
  /** Approval tokens of refused runs. */
  approve?: string[];
  /** A dry-run that does not log in to the file servers. */
  offline?: boolean;
  /** Also write the dry-run as a self-contained HTML page to this file. */
  html?: string;
  /** Stop between batches at this time (HH:MM in daemon.timezone, or ISO-8601 with offset). */
  until?: string;
  /** Stop between batches after this long (PT2H, 90m). */
  maxDuration?: string;
  /** With --dry-run: write what would go to this plan file. */
  savePlan?: string;
  /** Apply this plan file (and nothing else). */
  plan?: string;
}

/** `--as-of`: strict ISO 8601; without an offset it is UTC, and `io` is told so. */
export function parseAsOf(text: string, io?: Io): Date {
  const r = parseIsoInstant(text);
  if (!r.ok) throw new UsageError(`--as-of "${text}": ${r.reason}; expected a real date or time such as 2026-12-01, 2026-12-01T08:00:00Z or 2026-12-01T09:00:00+01:00`);
  if (r.assumedUtc) io?.err(`mft-retention: --as-of ${text} has no offset: read as UTC, ${r.instant.toISOString()}`);
  return r.instant;
}

export function exitCodeFor(results: NodeResult[]): ExitCode {
  if (results.some((r) => r.status === 'failed' && r.error instanceof DatabaseRefusedError)) return EXIT.databaseRefused;
  if (results.some((r) => r.status === 'failed' && r.error instanceof ConnectError)) return EXIT.connection;
  // A DELETE that failed after its files were removed (a lock timeout, say): not a success either.
  if (results.some((r) => r.status === 'failed' && r.chatTypes.some((s) => s.rowsPending > 0))) return EXIT.databaseRefused;
  if (results.some((r) => r.status === 'stopped')) return EXIT.stopped;
  // A dry-run that a limit would refuse says so in its exit code too.
  if (results.some((r) => r.refused?.length)) return EXIT.refused;
  if (results.some((r) => r.status !== 'ok')) return EXIT.partial;
  return EXIT.ok;
}
