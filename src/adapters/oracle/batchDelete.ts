import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import type { AuditRow } from '../../ports.js';
import { AUDIT_QUERY, INDEX_BIND, PATH_BIND } from './binds.js';
import { auditRow, text } from './rows.js';
import type { OracleSession } from './session.js';
import * as sql from './sql.js';

/**
 * A batch's rows deleted in one transaction, after the audit export (when there is one) has
 * them. Callers hold the session's turn (exclusive): the transaction's statements must not
 * interleave with another call's.
 */
export class OracleBatchDelete {
  /** AFT_LOG's columns, read once per connection. */
  private columns?: sql.AuditColumn[];

  constructor(
    private readonly session: OracleSession,
    private readonly db: ResolvedOracleDatabase,
    private readonly table: string,
  ) {}

  async deleteInTransaction(aftIndexes: string[], paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    const { conn } = this.session;
    // One transaction per batch: either every row of the batch's removed files goes, or none.
    // Array binds (executeMany) send every aft_index in one round trip, with no IN list at all.
    const options = { autoCommit: false } as const;
    try {
      // The audit export: Oracle has no DELETE ... RETURNING * for a whole row, so the rows are
      // read first, locked (FOR UPDATE) so that nobody changes them before the DELETE, and
      // handed over; only when beforeCommit resolves are they deleted and committed.
      const exported = beforeCommit ? await this.rowsToDelete(aftIndexes, paths, newerThanIndex) : undefined;
      if (exported) await beforeCommit!(exported);
      const a = await conn.executeMany(sql.deleteByIndex(this.table), aftIndexes.map((idx) => ({ idx })), { ...options, bindDefs: { idx: INDEX_BIND } });
      const live = [...new Set(paths.filter((p) => p !== ''))];
      const b =
        live.length === 0
          ? { rowsAffected: 0 }
          : await conn.executeMany(sql.deleteNewerByPath(this.table), live.map((path) => ({ newerThan: newerThanIndex, path })), { ...options, bindDefs: { newerThan: INDEX_BIND, path: PATH_BIND } });
      const deleted = (a.rowsAffected ?? 0) + (b.rowsAffected ?? 0);
      if (exported && deleted !== exported.length) {
        // A row for one of the paths was logged between the export and the DELETE: it would be
        // deleted without being exported. Roll back; the next run exports and deletes it all.
        throw new Error(`the batch would delete ${deleted} rows but ${exported.length} were exported (rows were logged for these files meanwhile); rolled back, the next run deletes them`);
      }
      await conn.commit();
      return deleted;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw this.session.translate(err);
    }
  }

  /** Every column of the rows a batch deletes, as text with lower-case keys (the AuditRow contract), locked. */
  private async rowsToDelete(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<AuditRow[]> {
    const columns = await this.auditColumns();
    const byIndex = new Map<string, AuditRow>();
    const collect = async (text: string, binds: Record<string, unknown>) => {
      const r = await this.session.conn.execute<Record<string, unknown>>(text, binds, AUDIT_QUERY);
      for (const row of r.rows ?? []) {
        const out = auditRow(row);
        byIndex.set(out.aft_index ?? '', out);
      }
    };
    for (const chunk of sql.inListChunks([...new Set(aftIndexes)])) {
      await collect(sql.selectForAuditByIndex(this.table, columns, chunk.length), sql.inListBinds(chunk));
    }
    for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
      await collect(sql.selectForAuditNewerByPath(this.table, columns, chunk.length), { ...sql.inListBinds(chunk), newerThan: newerThanIndex });
    }
    return [...byIndex.values()];
  }

  private async auditColumns(): Promise<sql.AuditColumn[]> {
    if (this.columns) return this.columns;
    const owner = (this.db.owner ?? text((await this.session.query(sql.selectUser))[0]?.USERNAME)).toUpperCase();
    const rows = await this.session.query(sql.selectColumns, { owner, tableName: this.db.table.toUpperCase() });
    const columns = rows.map((r) => ({ name: text(r.NAME), type: text(r.TYPE) }));
    if (!columns.some((c) => c.name.toLowerCase() === 'aft_index')) {
      throw new Error(`cannot read the columns of ${this.table} for the audit export (ALL_TAB_COLUMNS shows none with aft_index)`);
    }
    this.columns = columns;
    return columns;
  }
}
