import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import type { DatabaseUsage } from '../../ports.js';
import { QUERY } from './binds.js';
import { isTableOrViewMissing } from './errors.js';
import { quotaUsage, text, type Row } from './rows.js';
import type { OracleSession } from './session.js';
import * as sql from './sql.js';

/**
 * How full AFT_LOG's storage is: DBA_TABLESPACE_USAGE_METRICS for its tablespace where granted
 * (autoextend included); otherwise, silently, the login user's USER_TS_QUOTAS (no privilege
 * needed). Callers hold the session's turn.
 */
export async function tablespaceUsage(session: OracleSession, db: ResolvedOracleDatabase): Promise<DatabaseUsage> {
  const owner = (db.owner ?? text((await session.query(sql.selectUser))[0]?.USERNAME)).toUpperCase();
  const [t] = await session.query(sql.selectTableTablespace, { owner, tableName: db.table.toUpperCase() });
  const tablespace = t?.TABLESPACE === null || t?.TABLESPACE === undefined ? undefined : String(t.TABLESPACE);
  if (tablespace) {
    try {
      const [m] = (await session.conn.execute<Row>(sql.selectTablespaceMetrics, { tablespace }, QUERY)).rows ?? [];
      if (m) {
        return { usedBytes: Number(m.USED), capacityBytes: Number(m.MAX_BYTES), usedPercent: Number(m.USED_PERCENT), source: `DBA_TABLESPACE_USAGE_METRICS (tablespace ${tablespace})` };
      }
    } catch (err) {
      // Without SELECT on the DBA view: the user's quotas say enough.
      if (!isTableOrViewMissing(err)) throw session.translate(err);
    }
  }
  return quotaUsage(await session.query(sql.selectUserQuotas), tablespace);
}
