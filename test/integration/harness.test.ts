// Proves the test harness itself: real PostgreSQL and OpenSSH servers start, stop and
// restart; the AFT_LOG DDL and bulk insert work; password auth and host-key checks work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import ssh2 from 'ssh2';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';
import { startSshd, sshFingerprint, type SshdServer } from '../helpers/sshdServer.js';
import { sshLogin, type SshSession } from '../../src/adapters/sftp/sshLogin.js';
import { AFT_LOG_DDL, insertAftRows, toUtcWallClock, type AftRow } from '../helpers/aftLogSchema.js';

/** The few SFTP calls these tests make, on a session of the purge's own SSH login. */
interface SftpClient {
  put(data: Buffer, remote: string): Promise<void>;
  list(remote: string): Promise<Array<{ name: string; size: number }>>;
  delete(remote: string): Promise<void>;
  exists(remote: string): Promise<boolean>;
  end(): Promise<void>;
}

const callback = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

function login(s: SshdServer, fingerprint = s.hostKeyFingerprint, onLost?: (message: string) => void): Promise<SshSession> {
  return sshLogin({ host: s.host, port: s.port, username: s.username, pinnedHostKey: { fingerprint }, connectTimeoutMs: 10_000 }, { privateKey: readFileSync(s.clientPrivateKeyPath) }, { onLost });
}

async function sftpConnect(s: SshdServer, fp?: string): Promise<SftpClient> {
  let lost: string | undefined;
  const session = await login(s, fp, (m) => (lost = m));
  const { sftp } = session;
  // ssh2 never answers a request sent on a lost session: fail it at once, as the file store does.
  const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> =>
    lost ? Promise.reject(new Error(`session lost: ${lost}`)) : callback(fn);
  return {
    put: (data, remote) => call<void>((cb) => sftp.writeFile(remote, data, (err) => cb(err))),
    list: async (remote) =>
      (await call<Array<{ filename: string; attrs: { size: number } }>>((cb) => sftp.readdir(remote, cb))).map((e) => ({ name: e.filename, size: Number(e.attrs.size) })),
    delete: (remote) => call<void>((cb) => sftp.unlink(remote, (err) => cb(err))),
    exists: (remote) => call((cb) => sftp.lstat(remote, cb)).then(
      () => true,
      (err: { code?: unknown }) => (err.code === 2 ? false : Promise.reject(err)),
    ),
    end: () => session.end(),
  };
}

describe('PostgreSQL harness', () => {
  let server: PgServer;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('applies the AFT_LOG DDL with only the documented primary key', async () => {
    const c = new pg.Client(server.connectionConfig());
    await c.connect();
    try {
      await c.query(AFT_LOG_DDL);
      const idx = await c.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'aft_log'`,
      );
      expect(idx.rows.map((r) => r.indexname)).toEqual(['aft_log_pkey']);
      const cols = await c.query<{ column_name: string; is_nullable: string; data_type: string }>(
        `SELECT column_name, is_nullable, data_type FROM information_schema.columns
          WHERE table_name = 'aft_log' ORDER BY ordinal_position`,
      );
      expect(cols.rows.map((r) => r.column_name)).toEqual([
        'aft_index', 'jid', 'to_jid', 'method', 'filename', 'real_filename', 'file_type',
        'chat_type', 'file_server', 'file_path', 'file_size', 'bytes_transferred', 'timestampvalue',
      ]);
      expect(cols.rows.every((r) => r.is_nullable === 'NO')).toBe(true);
      expect(cols.rows.at(-1)?.data_type).toBe('timestamp without time zone');
    } finally {
      await c.end();
    }
  });

  it('insertAftRows stores UTC wall-clock timestamps exactly, with explicit and sequence indexes', async () => {
    const c = new pg.Client(server.connectionConfig());
    await c.connect();
    try {
      const base = Date.UTC(2024, 2, 31, 1, 59, 58, 123); // around a DST switch in Europe
      const rows: AftRow[] = [];
      for (let i = 0; i < 1000; i++) {
        rows.push({
          aftIndex: i < 10 ? 1_000_000 + i : undefined,
          method: i % 3 === 0 ? 'Get' : 'Post',
          chatType: ['im', 'groupchat', 'persistent'][i % 3]!,
          filePath: i === 5 ? '' : `/mftfiles/${i}/file-${i}.jpg`,
          fileSize: 1000 + i,
          timestamp: new Date(base + i * 1001),
        });
      }
      rows.push({ aftIndex: 9_007_199_254_740_993n, method: 'Post', chatType: 'im', filePath: '/big/x.txt', timestamp: new Date(base) });
      expect(await insertAftRows(c, rows)).toBe(rows.length);
      // after explicit indexes, default inserts must not collide
      expect(await insertAftRows(c, [{ method: 'Post', chatType: 'im', filePath: '/a/b.txt', timestamp: new Date(base) }])).toBe(1);

      const back = await c.query<{ i: string; ts: string; path: string; size: string; ft: string; bt: string }>(
        `SELECT aft_index::text AS i, to_char(timestampvalue, 'YYYY-MM-DD HH24:MI:SS.MS') AS ts,
                file_path AS path, file_size::text AS size, file_type AS ft, bytes_transferred::text AS bt
           FROM aft_log ORDER BY timestampvalue, aft_index`,
      );
      expect(back.rows).toHaveLength(rows.length + 1);
      const byPath = new Map(back.rows.map((r) => [r.path, r]));
      for (const r of rows) {
        const got = byPath.get(r.filePath)!;
        expect(got.ts).toBe(toUtcWallClock(r.timestamp));
      }
      expect(byPath.get('/mftfiles/7/file-7.jpg')).toMatchObject({ size: '1007', bt: '1007', ft: 'jpg' });
      expect(back.rows.some((r) => r.i === '9007199254740993')).toBe(true);
      expect(back.rows.some((r) => r.i === '1000000')).toBe(true);
      // exact text round trip, independent of the node process's time zone
      const one = await c.query<{ t: string }>(
        `SELECT timestampvalue::text AS t FROM aft_log WHERE file_path = '/mftfiles/1/file-1.jpg'`,
      );
      expect(one.rows[0]!.t).toBe('2024-03-31 01:59:59.124');
    } finally {
      await c.end();
    }
  });

  it('authenticates role mft by password over TCP and rejects a wrong password', async () => {
    const ok = new pg.Client(server.mftConnectionConfig());
    await ok.connect();
    const who = await ok.query<{ u: string; ssl: boolean }>('SELECT current_user AS u');
    expect(who.rows[0]!.u).toBe('mft');
    await ok.end();

    const bad = new pg.Client({ ...server.mftConnectionConfig(), password: 'wrong' });
    await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
    await bad.end().catch(() => {});

    // postgres is trusted over TCP too
    const tcp = new pg.Client({ host: server.tcpHost, port: server.port, user: 'postgres', database: 'postgres' });
    await tcp.connect();
    await tcp.end();
  });

  it('createDatabase gives mft a usable database', async () => {
    await server.createDatabase('mft_extra');
    const admin = new pg.Client(server.connectionConfig('mft_extra'));
    await admin.connect();
    await admin.query(AFT_LOG_DDL);
    await admin.end();
    const mft = new pg.Client(server.mftConnectionConfig('mft_extra'));
    await mft.connect();
    await insertAftRows(mft, [{ method: 'Post', chatType: 'im', filePath: '/x', timestamp: new Date() }]);
    const n = await mft.query<{ n: string }>('SELECT count(*) AS n FROM aft_log');
    expect(n.rows[0]!.n).toBe('1');
    await mft.query('DELETE FROM aft_log');
    await mft.end();
  });

  it('stopImmediate drops clients, start brings the same data back on the same port', async () => {
    const port = server.port;
    const c = new pg.Client(server.connectionConfig());
    c.on('error', () => {});
    await c.connect();
    await server.stopImmediate();
    expect(server.isRunning()).toBe(false);
    await expect(c.query('SELECT 1')).rejects.toThrow();
    const refused = new pg.Client(server.mftConnectionConfig());
    await expect(refused.connect()).rejects.toThrow();
    await refused.end().catch(() => {});

    await server.start();
    expect(server.port).toBe(port);
    const d = new pg.Client(server.connectionConfig());
    await d.connect();
    const n = await d.query<{ n: string }>('SELECT count(*) AS n FROM aft_log');
    expect(Number(n.rows[0]!.n)).toBeGreaterThan(1000);
    await d.end();

    await server.halt();
    expect(server.isRunning()).toBe(false);
    await server.start();
    expect(server.isRunning()).toBe(true);
  });
});

describe('sshd harness (root)', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.destroy();
  });

  it('exposes the host key like ssh-keyscan / ssh-keygen print it', () => {
    expect(sshd.username).toBe('root');
    expect(sshd.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(sshd.otherHostKeyFingerprint).toMatch(/^SHA256:/);
    expect(sshd.otherHostKeyFingerprint).not.toBe(sshd.hostKeyFingerprint);
    const scanned = execFileSync('ssh-keyscan', ['-t', 'ed25519', '-p', String(sshd.port), '127.0.0.1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    expect(scanned).toBe(sshd.hostPublicKeyLine);
    const blob = Buffer.from(sshd.hostPublicKeyLine.split(' ')[2]!, 'base64');
    expect(sshFingerprint(blob)).toBe(sshd.hostKeyFingerprint);
  });

  it('serves SFTP with key auth and a fingerprint-checking hostVerifier: put/list/delete', async () => {
    const c = await sftpConnect(sshd);
    try {
      const remote = `${sshd.rootDir}/hello.txt`;
      await c.put(Buffer.from('hello mft'), remote);
      expect(readFileSync(join(sshd.rootDir, 'hello.txt'), 'utf8')).toBe('hello mft');
      const list = await c.list(sshd.rootDir);
      expect(list.map((e) => [e.name, e.size])).toEqual([['hello.txt', 9]]);
      await c.delete(remote);
      expect(await c.exists(remote)).toBe(false);
    } finally {
      await c.end();
    }
  });

  it('fails when the host key fingerprint does not match', async () => {
    await expect(login(sshd, sshd.otherHostKeyFingerprint)).rejects.toMatchObject({ stage: 'host-key', seen: sshd.hostKeyFingerprint, pinned: { fingerprint: sshd.otherHostKeyFingerprint } });
  });

  it('fails at authentication, the host key matched, for a client key the server does not know', async () => {
    const { private: stranger } = ssh2.utils.generateKeyPairSync('ed25519');
    const target = { host: sshd.host, port: sshd.port, username: sshd.username, pinnedHostKey: { fingerprint: sshd.hostKeyFingerprint }, connectTimeoutMs: 10_000 };
    await expect(sshLogin(target, { privateKey: Buffer.from(stranger) })).rejects.toMatchObject({ stage: 'authentication', keyRefused: true, seen: sshd.hostKeyFingerprint });
  });

  it('stop/start and kill/start work on the same port and keys; kill drops open sessions', async () => {
    const port = sshd.port;
    await sshd.stop();
    expect(sshd.isRunning()).toBe(false);
    await expect(login(sshd)).rejects.toMatchObject({ stage: 'tcp', message: expect.stringMatching(/refused|ECONNREFUSED/i) });

    await sshd.start();
    expect(sshd.port).toBe(port);
    const open = await sftpConnect(sshd);
    expect(await open.exists(sshd.rootDir)).toBe(true);

    await sshd.kill();
    expect(sshd.isRunning()).toBe(false);
    await expect(open.list(sshd.rootDir)).rejects.toThrow();
    await open.end().catch(() => {});

    await sshd.start();
    const again = await sftpConnect(sshd);
    expect(await again.exists(sshd.rootDir)).toBe(true);
    await again.end();
  });
});

describe('sshd harness (non-root user mfttest)', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd({ user: 'mfttest' });
  });
  afterAll(async () => {
    await sshd?.destroy();
  });

  it('logs in as mfttest, owns rootDir, and gets permission denied on a root-owned dir', async () => {
    expect(sshd.username).toBe('mfttest');
    const uid = Number(execFileSync('id', ['-u', 'mfttest'], { encoding: 'utf8' }).trim());
    expect(statSync(sshd.rootDir).uid).toBe(uid);

    const locked = join(sshd.rootDir, 'locked');
    mkdirSync(locked, { mode: 0o755 }); // created by root: not writable for mfttest

    const c = await sftpConnect(sshd);
    try {
      await c.put(Buffer.from('ok'), `${sshd.rootDir}/mine.txt`);
      expect(statSync(join(sshd.rootDir, 'mine.txt')).uid).toBe(uid);
      await expect(c.put(Buffer.from('no'), `${locked}/denied.txt`)).rejects.toThrow(/permission denied/i);
    } finally {
      await c.end();
    }
  });
});
