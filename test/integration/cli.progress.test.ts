// The progress bar of a real purge: drawn on a terminal (a pseudo-terminal made by
// util-linux `script`), never when the output is piped or is JSON.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AFT_LOG_DDL, AFT_LOG_DROP_DDL, insertAftRows, type AftRow } from '../helpers/aftLogSchema.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';
import { shq } from '../helpers/procUtil.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'bin/mft-retention.js');
const FILES = 300;

let server: PgServer;
let client: pg.Client;
let dir: string;
let configFile: string;

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase('progress');
  client = new pg.Client(server.connectionConfig('progress'));
  await client.connect();
  dir = mkdtempSync(join(tmpdir(), 'mft-progress-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies/im.yaml'), 'chatType: im\nretention: P1D\n# every im file of this test is expired: a run that empties the chat type must be allowed\nallowPurgeAll: true\n');
  configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    [
      'purge: { batchSize: 50 }',
      'nodes:',
      '  - name: node_1',
      `    database: { type: postgres, host: ${server.host}, port: ${server.port}, database: progress, user: postgres }`,
      `    fileServer: { type: local, directory: ${join(dir, 'store')} }`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await client?.end();
  await server?.destroy();
});

/** FILES expired im files from three days ago, in Cisco's layout, with their Post rows. */
beforeEach(async () => {
  await client.query(AFT_LOG_DROP_DDL);
  await client.query(AFT_LOG_DDL);
  const when = new Date(Date.now() - 3 * 86_400_000);
  const folder = `${when.toISOString().slice(0, 10).replaceAll('-', '')}/${when.toISOString().slice(11, 13)}`;
  const hourDir = join(dir, 'store/files/im', folder);
  mkdirSync(hourDir, { recursive: true });
  const rows: AftRow[] = [];
  for (let i = 0; i < FILES; i++) {
    const filePath = join(hourDir, `f${i}.txt`);
    writeFileSync(filePath, 'x');
    rows.push({ method: 'Post', chatType: 'im', filePath, fileSize: 1, timestamp: when });
  }
  await insertAftRows(client, rows);
});

async function remainingPosts(): Promise<number> {
  const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM aft_log`);
  return Number(r.rows[0]!.n);
}

describe('purge progress bar', () => {
  it('is drawn on a terminal with files, rate and ETA, and ends at the full count', async () => {
    const { stdout } = await run('script', ['-qfec', `node ${shq(CLI)} purge --config ${shq(configFile)}`, '/dev/null'], { env: { ...process.env, COLUMNS: '160' } });
    expect(stdout).toMatch(/node_1 im\s+\[#{20}\] 300\/300 files/);
    expect(stdout).toContain('files/s');
    expect(stdout).toContain('ETA');
    expect(stdout).toContain('\r\x1b[2K');
    expect(stdout).toContain('Purged: 300 files');
    expect(await remainingPosts()).toBe(0);
  });

  it('is not drawn when the output is not a terminal', async () => {
    const { stdout, stderr } = await run('node', [CLI, 'purge', '--config', configFile]);
    expect(stdout + stderr).not.toContain('\x1b[2K');
    expect(stdout + stderr).not.toContain('ETA');
    expect(stdout).toContain('Purged: 300 files');
  });

  it('is not drawn for --json, even on a terminal', async () => {
    const { stdout } = await run('script', ['-qfec', `node ${shq(CLI)} purge --json --config ${shq(configFile)}`, '/dev/null']);
    expect(stdout).not.toContain('\x1b[2K');
    const lines = stdout.trim().split(/\r?\n/);
    const summary = JSON.parse(lines[lines.length - 1]!);
    expect(summary).toMatchObject({ type: 'summary', files: 300 });
  });
});
