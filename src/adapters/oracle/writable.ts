import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import { DatabaseRefusedError } from '../../errors.js';
import { describeOracle } from './connection.js';
import { oraCode, oraNumber } from './errors.js';
import { text } from './rows.js';
import type { OracleSession } from './session.js';
import * as sql from './sql.js';

/**
 * Before the first removal: that the login may read and delete AFT_LOG rows on a primary
 * that accepts writes, found by trying (see sql.tryDelete), then rolled back. Throws a
 * DatabaseRefusedError saying what to grant or where to point the node instead.
 */
export async function checkOracleWritable(session: OracleSession, db: ResolvedOracleDatabase, node: string, table: string): Promise<void> {
  await session.exclusive(async () => {
    const [row] = await session.query(sql.selectDatabaseRole);
    const role = text(row?.DB_ROLE);
    const login = text(row?.LOGIN) || db.user;
    const where = `Oracle ${describeOracle(db)}`;
    const grant = `run as the owner of the table: GRANT SELECT, DELETE ON ${table} TO ${login};`;
    if (role && role !== 'PRIMARY') {
      throw new DatabaseRefusedError(node, `the purge cannot delete AFT_LOG rows on ${where}, so no file was removed: the database is a ${role} (SYS_CONTEXT('USERENV', 'DATABASE_ROLE')): point the node's database at the primary`);
    }
    for (const [statement, privilege] of [
      [sql.trySelect(table), 'SELECT'],
      [sql.tryDelete(table), 'DELETE'],
    ] as const) {
      try {
        await session.conn.execute(statement, {}, { autoCommit: false });
      } catch (err) {
        const ora = oraNumber((err ?? {}) as never);
        const why =
          ora === 1031 || ora === 942
            ? `${login} lacks the ${privilege} privilege on ${table} (${oraCode(ora)}): ${grant}`
            : ora === 16000
              ? `the database is open read-only (${oraCode(ora)}): point the node's database at the primary`
              : undefined;
        if (why) throw new DatabaseRefusedError(node, `the purge cannot delete AFT_LOG rows on ${where}, so no file was removed: ${why}`, { cause: err });
        throw session.translate(err);
      } finally {
        await session.conn.rollback().catch(() => undefined);
      }
    }
  });
}
