// Legal holds from policies/holds.yaml: a held file is kept (reason hold:<name>) by the
// dry-run and by the purge, until the hold expires. Real PostgreSQL, local file store.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { AFT_LOG_DDL, insertAftRows } from '../helpers/aftLogSchema.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';

let server: PgServer;
let client: pg.Client;
let dir: string;
const files: Record<string, string> = {};

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => void lines.push(l), err: (l) => void lines.push(l), env: process.env };
}

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase('holds');
  client = new pg.Client(server.connectionConfig('holds'));
  await client.connect();
  await client.query(AFT_LOG_DDL);
  dir = mkdtempSync(join(tmpdir(), 'mft-holds-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies/im.yaml'), 'chatType: im\nretention: P1D\n');
  writeFileSync(join(dir, 'policies/groupchat.yaml'), 'chatType: groupchat\nretention: P1D\n');
  writeFileSync(
    join(dir, 'config.yaml'),
    `nodes:\n  - name: n1\n    database: { type: postgres, host: ${server.host}, port: ${server.port}, database: holds, user: postgres }\n    fileServer: { type: local, directory: ${join(dir, 'store')} }\n`,
  );
  const at = new Date(Date.now() - 3 * 86_400_000);
  const folder = `${at.toISOString().slice(0, 10).replaceAll('-', '')}/${at.toISOString().slice(11, 13)}`;
  const mk = async (key: string, chatType: string, jid: string, toJid: string) => {
    const hourDir = join(dir, 'store/files', chatType, folder);
    mkdirSync(hourDir, { recursive: true });
    files[key] = join(hourDir, `${key}.txt`);
    writeFileSync(files[key]!, key);
    await insertAftRows(client, [{ method: 'Post', chatType, filePath: files[key]!, jid, toJid, timestamp: at }]);
  };
  await mk('byUploader', 'im', 'Alice@Example.com/laptop', 'bob@example.com');
  await mk('byRoom', 'groupchat', 'carol@example.com', 'legal-room@conference.example.com');
  await mk('expiredHold', 'im', 'dave@example.com', 'erin@example.com');
  await mk('free', 'im', 'frank@example.com', 'bob@example.com');
  writeFileSync(
    join(dir, 'policies/holds.yaml'),
    [
      'holds:',
      '  - name: case-4711',
      '    reason: litigation hold requested by Legal',
      '    uploaders: [alice@example.com]',
      '  - name: room-legal',
      '    recipients: [legal-room@conference.example.com]',
      '    expires: 2099-12-31',
      '  - name: ended',
      '    jids: [dave@example.com]',
      '    expires: 2020-01-01',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await client?.end();
  await server?.destroy();
});

describe('legal holds', () => {
  it('show as keep with reason hold:<name> in the dry-run JSON', async () => {
    const io = capture();
    expect(await main(['purge', '--config', join(dir, 'config.yaml'), '--dry-run', '--json'], io)).toBe(0);
    const byPath = new Map(io.lines.map((l) => JSON.parse(l)).filter((o) => o.type === 'file').map((o) => [o.filePath, o]));
    expect(byPath.get(files.byUploader)).toMatchObject({ decision: 'keep', reason: 'hold:case-4711', detail: 'litigation hold requested by Legal' });
    expect(byPath.get(files.byRoom)).toMatchObject({ decision: 'keep', reason: 'hold:room-legal' });
    expect(byPath.get(files.expiredHold)).toMatchObject({ decision: 'delete', reason: 'expired' });
    expect(byPath.get(files.free)).toMatchObject({ decision: 'delete' });
  });

  it('keep held files and their rows through a real purge, and let an expired hold go', async () => {
    expect(await main(['purge', '--config', join(dir, 'config.yaml')], capture())).toBe(0);
    expect(existsSync(files.byUploader!)).toBe(true);
    expect(existsSync(files.byRoom!)).toBe(true);
    expect(existsSync(files.expiredHold!)).toBe(false);
    expect(existsSync(files.free!)).toBe(false);
    const { rows } = await client.query<{ file_path: string }>('SELECT file_path FROM aft_log ORDER BY file_path');
    expect(rows.map((r) => r.file_path).sort()).toEqual([files.byRoom, files.byUploader].sort());
  });

  it('reject a hold that covers nothing, naming the file and the hold', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'mft-holds-bad-'));
    mkdirSync(join(bad, 'policies'));
    writeFileSync(join(bad, 'policies/holds.yaml'), 'holds:\n  - name: empty-one\n    reason: forgot the selector\n');
    writeFileSync(join(bad, 'config.yaml'), `nodes:\n  - name: n1\n    database: { type: postgres, host: h, database: d, user: u }\n    fileServer: { type: local, directory: /srv/mft }\n`);
    const io = capture();
    expect(await main(['config', 'check', '--config', join(bad, 'config.yaml')], io)).toBe(2);
    const text = io.lines.join('\n');
    expect(text).toContain(join(bad, 'policies/holds.yaml'));
    expect(text).toContain('holds[0]');
    expect(text).toContain('"empty-one"');
    expect(text).toContain('at least one of jids, uploaders, recipients, paths, aftIndexes');
  });
});
