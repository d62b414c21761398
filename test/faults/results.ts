// The machine-readable record of a fault-injection run: one JSON file per test file, with one
// entry per scenario (iterations, seed, outcome). `npm run faults:report` renders them as the
// table published in docs/dev/faults.md.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Where the records go: FAULTS_RESULTS_DIR, else a directory in the temp dir named after this
 * checkout (several checkouts on one machine do not mix their results).
 */
export function resultsDir(): string {
  return process.env.FAULTS_RESULTS_DIR || join(tmpdir(), `mft-retention-faults-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10)}`);
}

export interface ScenarioRecord {
  scenario: string;
  iterations: number;
  seed: number | null;
  outcome: 'pass' | 'fail';
  /** What the iterations covered (e.g. where the kills landed), or why it failed. */
  detail: string;
  durationMs: number;
  finishedAt: string;
}

export interface Recorder {
  /** How many iterations (fault injections checked against the invariants) the scenario ran. */
  iterations: number;
  seed: number | null;
  /** Adds a line to the scenario's detail column. */
  note(text: string): void;
}

export interface FileRecord {
  file: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; kernel: string; node: string };
  servers: Record<string, string>;
  scenarios: ScenarioRecord[];
}

/**
 * Scenario bookkeeping for one test file. `scenario()` defines a vitest test whose outcome,
 * iteration count and seed are recorded; the file's record is written after its last test.
 */
export function faultRecorder(testFile: string): {
  scenario: (name: string, fn: (rec: Recorder) => Promise<void>, timeoutMs?: number) => void;
  server: (name: string, version: string) => void;
} {
  const record: FileRecord = {
    file: basename(testFile),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
    },
    servers: {},
    scenarios: [],
  };
  afterAll(() => {
    const dir = resultsDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${record.file}.json`), JSON.stringify(record, null, 2) + '\n');
  });
  return {
    server(name, version) {
      record.servers[name] = version;
    },
    scenario(name, fn, timeoutMs) {
      it(
        name,
        async () => {
          const notes: string[] = [];
          const rec: Recorder = { iterations: 1, seed: null, note: (t) => notes.push(t) };
          const started = Date.now();
          const push = (outcome: 'pass' | 'fail', extra?: string): void => {
            record.scenarios.push({
              scenario: name,
              iterations: rec.iterations,
              seed: rec.seed,
              outcome,
              detail: [...notes, ...(extra ? [extra] : [])].join('; '),
              durationMs: Date.now() - started,
              finishedAt: new Date().toISOString(),
            });
          };
          try {
            await fn(rec);
          } catch (err) {
            push('fail', `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300)}`);
            throw err;
          }
          push('pass');
        },
        timeoutMs,
      );
    },
  };
}
