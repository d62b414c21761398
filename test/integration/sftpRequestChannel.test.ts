// The SFTP session the purge sends its removals on, against a real OpenSSH sshd: every request
// gets its own result in order, the in-flight limit holds however many requests are queued,
// and a session that dies mid-run answers every request left with an error instead of hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { SftpRequestChannel, SftpStatusError } from '../../src/adapters/sftp/requestChannel.js';
import { FX, FXP } from '../../src/adapters/sftp/wire.js';
import { sshFingerprint, startSshd, type SshdServer } from '../helpers/sshdServer.js';

let sshd: SshdServer;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.destroy();
});

function connect(): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => resolve(c)).on('error', reject);
    c.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: readFileSync(sshd.clientPrivateKeyPath),
      hostVerifier: (key: Buffer) => sshFingerprint(key) === sshd.hostKeyFingerprint,
      readyTimeout: 10_000,
    });
    // As the file store does: one request at a time must not wait for delayed ACKs.
    c.setNoDelay(true);
  });
}

/** `count` paths in a fresh folder; the even-numbered ones exist as files. */
function makeFiles(name: string, count: number): string[] {
  const dir = join(sshd.rootDir, name);
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = join(dir, `f${i}.bin`);
    if (i % 2 === 0) writeFileSync(p, 'x');
    paths.push(p);
  }
  return paths;
}

describe('SftpRequestChannel on a real sshd', () => {
  it.each([1, 16, 256])('removes 3,000 paths with at most %i requests in flight, each with its own result in order', async (maxInFlight) => {
    const client = await connect();
    try {
      const rc = await SftpRequestChannel.open(client, { timeoutMs: 10_000, maxInFlight });
      const a = makeFiles(`limit${maxInFlight}a`, 2000);
      const b = makeFiles(`limit${maxInFlight}b`, 1000);
      // Two runs side by side share the one limit.
      const [ra, rb] = await Promise.all([rc.run(FXP.REMOVE, a), rc.run(FXP.REMOVE, b)]);
      for (const [paths, results] of [
        [a, ra],
        [b, rb],
      ] as const) {
        expect(results).toHaveLength(paths.length);
        results.forEach((r, i) => {
          if (i % 2 === 0) expect(r, paths[i]).toBe(FX.OK);
          else {
            expect(r, paths[i]).toBeInstanceOf(SftpStatusError);
            expect((r as SftpStatusError).code).toBe(FX.NO_SUCH_FILE);
          }
        });
        expect(paths.filter((p) => existsSync(p))).toEqual([]);
      }
      // 3,000 queued requests reach the limit and never pass it.
      expect(rc.peakInFlight).toBe(maxInFlight);
      rc.close();
    } finally {
      client.end();
    }
  });

  it('answers REALPATH with the name and RMDIR with a status', async () => {
    const client = await connect();
    try {
      const rc = await SftpRequestChannel.open(client, { timeoutMs: 10_000, maxInFlight: 4 });
      const dir = join(sshd.rootDir, 'rp', 'sub');
      mkdirSync(dir, { recursive: true });
      const [name, missing] = await rc.run(FXP.REALPATH, [`${dir}/../sub`, join(sshd.rootDir, 'nope', 'x')]);
      expect(name).toBe(dir);
      expect(missing).toBeInstanceOf(SftpStatusError);
      const [gone, notEmpty] = await rc.run(FXP.RMDIR, [dir, join(sshd.rootDir, 'rp', '..')]);
      expect(gone).toBe(FX.OK);
      expect(notEmpty).toBeInstanceOf(SftpStatusError);
      expect(existsSync(dir)).toBe(false);
      rc.close();
    } finally {
      client.end();
    }
  });

  it('gives every unanswered request an error when the session dies, and later runs fail at once', async () => {
    const client = await connect();
    client.on('error', () => {});
    const rc = await SftpRequestChannel.open(client, { timeoutMs: 10_000, maxInFlight: 8 });
    const paths = makeFiles('dies', 20_000);
    const run = rc.run(FXP.REMOVE, paths);
    // Kill the server while most requests are still queued.
    await new Promise((r) => setTimeout(r, 20));
    await sshd.kill();
    try {
      const results = await run;
      expect(results).toHaveLength(paths.length);
      const errors = results.filter((r) => r instanceof Error && !(r instanceof SftpStatusError));
      expect(errors.length).toBeGreaterThan(0);
      // Whatever was answered before the end is a real answer, never an error in disguise.
      results.forEach((r, i) => {
        if (r === FX.OK) expect(i % 2).toBe(0);
        if (r instanceof SftpStatusError) expect(r.code).toBe(FX.NO_SUCH_FILE);
      });
      expect(rc.closed).toBe(true);
      const later = await rc.run(FXP.REMOVE, ['/tmp/anything']);
      expect(later[0]).toBeInstanceOf(Error);
    } finally {
      client.end();
      await sshd.start();
    }
  });
});
