// The purge against a least-privilege database role, on a real PostgreSQL and a real OpenSSH
// sshd: a role that may read AFT_LOG but not delete from it, a role whose transactions are
// read-only, and a DELETE privilege revoked while a batch waits to delete its rows. No file may
// go whose rows cannot be deleted; files already gone when a DELETE fails are reported as
// removed with their rows pending, and the next run says an earlier run removed them.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { avoidHourEdge, fileRecords, HOUR_MS, hourStart, parseJsonLines, present, show, summaryRecord, usePurgeEnv, type Fixture } from '../helpers/purgeFixture.js';
import { sleep } from '../helpers/procUtil.js';

const env = usePurgeEnv();

const ago = (hours: number, plusMs = 0) => new Date(hourStart().getTime() - hours * HOUR_MS + plusMs);
const logOf = (stderr: string) => parseJsonLines(stderr);

async function threeFiles(f: Fixture) {
  return [await f.node.upload({ at: ago(10), gets: [ago(9), ago(8)] }), await f.node.upload({ at: ago(11) }), await f.node.upload({ at: ago(12), gets: [ago(2)] })];
}

describe('purge with a least-privilege database role', () => {
  it('a role with SELECT only: no file removed, the node fails naming the privilege and the GRANT (exit 6)', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const files = await threeFiles(f);
    await f.node.sql('REVOKE ALL ON aft_log FROM mft; GRANT SELECT ON aft_log TO mft');
    try {
      const before = await f.snapshot();
      const r = await f.purge('--json');
      expect(r.code, show(r)).toBe(6);
      for (const u of files) expect(present(u.path)).toBe(true);
      expect(await f.snapshot()).toEqual(before);
      const s = summaryRecord(r.stdout);
      expect(s).toMatchObject({ files: 0, rows: 0 });
      expect(s.nodes[0].status).toBe('failed');
      expect(s.nodes[0].error).toContain('lacks the DELETE privilege on public.aft_log');
      expect(s.nodes[0].error).toContain('GRANT DELETE ON public.aft_log TO mft;');
      expect(s.nodes[0].error).not.toContain('SELECT and DELETE');
    } finally {
      await f.node.sql('GRANT ALL ON aft_log TO mft');
    }
  });

  it('a role without any privilege on the table: both are named', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    await threeFiles(f);
    await f.node.sql('REVOKE ALL ON aft_log FROM mft');
    try {
      const r = await f.purge('--json');
      expect(r.code, show(r)).toBe(6);
      expect(summaryRecord(r.stdout).nodes[0].error).toContain('GRANT SELECT, DELETE ON public.aft_log TO mft;');
    } finally {
      await f.node.sql('GRANT ALL ON aft_log TO mft');
    }
  });

  it('default_transaction_read_only on for the role: no file removed, the fix named (exit 6)', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const files = await threeFiles(f);
    await f.node.sql(`ALTER ROLE mft IN DATABASE ${f.node.database} SET default_transaction_read_only = on`);
    try {
      const r = await f.purge('--json');
      expect(r.code, show(r)).toBe(6);
      for (const u of files) expect(present(u.path)).toBe(true);
      expect(summaryRecord(r.stdout).nodes[0].error).toContain(`ALTER ROLE mft IN DATABASE ${f.node.database} SET default_transaction_read_only = off;`);
    } finally {
      await f.node.sql(`ALTER ROLE mft IN DATABASE ${f.node.database} RESET default_transaction_read_only`);
    }
  });

  it('DELETE revoked while a batch waits to delete its rows: the files gone are reported removed with rows pending, and the next run names them', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' }, batchSize: 2 });
    const files = await threeFiles(f);
    const allRows = (await f.node.indexes()).sort();
    // The lock blocks the DELETE, not the reads: the purge removes the first batch's files and
    // waits. The lock's transaction revokes DELETE and commits: the DELETE then fails.
    const locker = new pg.Client(env.pg.connectionConfig(f.node.database));
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE aft_log IN EXCLUSIVE MODE');
      const run = f.purge('--json');
      // Files first: once one is gone, the DELETE follows (the database is not polled before,
      // while the purge connects).
      const deadline = Date.now() + 30_000;
      while (files.every((u) => present(u.path))) {
        if (Date.now() > deadline) throw new Error(`the purge removed no file within 30 s:\n${show(await run)}`);
        await sleep(50);
      }
      for (;;) {
        const w = await locker.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM%'`);
        if (w.rows.length) break;
        if (Date.now() > deadline) {
          const a = await locker.query(`SELECT datname, application_name, backend_type, state, wait_event_type, wait_event, left(query, 60) AS q FROM pg_stat_activity`);
          throw new Error(`the purge never waited on its DELETE: ${JSON.stringify(a.rows)}\n${show(await run)}`);
        }
        await sleep(250);
      }
      await locker.query('REVOKE DELETE ON aft_log FROM mft');
      await locker.query('COMMIT');
      const r = await run;
      expect(r.code, show(r)).toBe(6);
      // Nothing was deleted from the table; the files that went are each reported.
      expect((await f.node.indexes()).sort()).toEqual(allRows);
      const gone = files.filter((u) => !present(u.path));
      expect(gone.length).toBeGreaterThan(0);
      const records = fileRecords(r.stdout).filter((x) => x.outcome?.endsWith(':rows-pending'));
      expect(records.map((x) => x.filePath).sort()).toEqual(gone.map((u) => u.path).sort());
      const s = summaryRecord(r.stdout);
      expect(s.files).toBe(gone.length);
      expect(s.rows).toBe(0);
      expect(s.nodes[0].chatTypes[0].rowsPending).toBe(gone.length);
      expect(s.nodes[0].error).toMatch(/files were removed but their AFT_LOG rows could not be deleted/);
      expect(s.nodes[0].error).toContain('GRANT SELECT, DELETE ON public.aft_log TO mft;');
      const removedLines = logOf(r.stderr).filter((l) => l.msg === 'removed');
      expect(removedLines.map((l) => l.path).sort()).toEqual(gone.map((u) => u.path).sort());
      expect(removedLines.every((l) => l.rowsPending === true)).toBe(true);
      // Noted for the next run, in the state directory.
      const ledger = join(f.configDir, 'state', 'rows-pending.json');
      expect(existsSync(ledger)).toBe(true);
      expect(Object.keys(JSON.parse(readFileSync(ledger, 'utf8')).nodes.node_1)).toHaveLength(gone.length);

      await f.node.sql('GRANT ALL ON aft_log TO mft');
      const r2 = await f.purge('--json');
      expect(r2.code, show(r2)).toBe(0);
      expect(await f.node.indexes()).toEqual([]);
      const later = logOf(r2.stderr).filter((l) => l.msg === 'removed' && l.alreadyMissing);
      expect(later.map((l) => l.path).sort()).toEqual(gone.map((u) => u.path).sort());
      for (const l of later) expect(typeof l.removedByEarlierRun).toBe('string');
      expect(JSON.parse(readFileSync(ledger, 'utf8')).nodes.node_1).toBeUndefined();
    } finally {
      await locker.end().catch(() => undefined);
      await f.node.sql('GRANT ALL ON aft_log TO mft');
    }
  });
});


