// The purge run inside the test process, with the real adapters (PostgresCatalog on the real
// PostgreSQL, SftpFileStore on the real sshd) and the real purgeNode, for the faults that must
// strike at an exact point (between reading a batch and removing its files) or need an
// injected host clock. Only the moment of the fault is chosen here; nothing is simulated.
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config/loadConfig.js';
import { exitCodeFor } from '../../src/cli/purgeArgs.js';
import type { ExitCode } from '../../src/shared/exitCodes.js';
import type { FileDecision } from '../../src/core/planBatch.js';
import { openCatalog, openFileStore } from '../../src/purge/openPorts.js';
import { purgeNode, type NodeResult } from '../../src/purge/purgeNode.js';
import type { FileStore, FileToRemove } from '../../src/ports.js';
import type { World } from './world.js';

export interface InProcessRun {
  result: NodeResult;
  /** The exit code the CLI gives for this result. */
  exitCode: ExitCode;
  /** The log, as JSON objects. */
  logs: Array<Record<string, any>>;
  /** Every file considered with its outcome, as the --json report lists them. */
  files: Array<{ file: FileDecision; outcome?: string }>;
}

export interface InProcessOptions {
  /** The host clock the purge reads (default: the real one). */
  hostNow?: () => Date;
  /** Called with the files of each batch just before they are removed. */
  beforeRemove?: (files: FileToRemove[], batch: number) => Promise<void> | void;
}

export async function purgeInProcess(w: World, opts: InProcessOptions = {}): Promise<InProcessRun> {
  const config = await loadConfig(w.configPath);
  const node = config.nodes[0]!;
  const logs: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, any>);
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const catalog = await openCatalog(node);
  let store: FileStore | undefined;
  try {
    store = await openFileStore(node);
    const real = store;
    let batch = 0;
    const files: FileStore = {
      removeFiles: async (list) => {
        await opts.beforeRemove?.(list, batch++);
        return real.removeFiles(list);
      },
      removeEmptyFolders: (dirs) => real.removeEmptyFolders(dirs),
      exists: (p) => real.exists(p),
      freeSpace: () => real.freeSpace(),
      statFiles: (paths) => real.statFiles(paths),
      listDirectory: (dir) => real.listDirectory(dir),
      close: () => real.close(),
    };
    const seen: InProcessRun['files'] = [];
    const result = await purgeNode(node, { catalog, files, log }, {
      dryRun: false,
      batchSize: config.purge.batchSize,
      maxClockSkewMs: config.purge.maxClockSkewMs,
      removeEmptyFolders: config.purge.removeEmptyFolders,
      hostNow: opts.hostNow ?? (() => new Date()),
      onFile: (_node, file, outcome) => seen.push({ file, outcome }),
    });
    return { result, exitCode: exitCodeFor([result]), logs, files: seen };
  } finally {
    await store?.close();
    await catalog.close();
  }
}
