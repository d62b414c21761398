// The Catalog contract against the in-memory AFT_LOG the purge's in-process tests use, so
// that what those tests show of the purge holds for the database adapters too.
import { MemoryCatalog, type MemoryRow } from '../../src/adapters/memory/memoryCatalog.js';
import { DatabaseFullError } from '../../src/errors.js';
import { describeCatalogContract, type CatalogFactory } from './catalogContract.js';

const factory = (): CatalogFactory => ({
  async create(rows, opts = {}) {
    const refused = new Map<string, 'disk-full' | 'error'>();
    const beforeDelete = (doomed: readonly MemoryRow[]): void => {
      for (const r of doomed) {
        const kind = refused.get(r.aftIndex.toString());
        if (kind === 'disk-full') throw new DatabaseFullError('contract', 'the database is full (in-memory AFT_LOG)');
        if (kind) throw new Error('contract test: delete refused');
      }
    };
    const catalog = new MemoryCatalog(rows, { timestampZone: opts.timestampZone, beforeDelete });
    return {
      catalog,
      remainingIndexes: async () => catalog.indexes(),
      failDeleteOf: async (aftIndex, kind) => void refused.set(String(aftIndex), kind),
      insertRows: async (more) => catalog.insert(more),
      dispose: () => catalog.close(),
    };
  },
});

describeCatalogContract('in-memory AFT_LOG', factory);
