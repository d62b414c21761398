// The schema of config.yaml produces the config in force: durations in milliseconds, sizes in
// bytes in one grammar for every key, relative paths resolved against the config file's
// directory, and the rules across keys reported like any other problem.
import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/config/byteSize.js';
import { configFileSchema } from '../../src/config/schema.js';

const node = (extra: Record<string, unknown> = {}) => ({
  name: 'node_1',
  database: { type: 'postgres', host: 'db', database: 'tcmadb', user: 'mft', passwordFile: 'secrets/db.password', ...extra },
  fileServer: { type: 'local', directory: '/srv/mft/node_1/' },
});

const parse = (config: Record<string, unknown>) => configFileSchema('/etc/mft-retention').safeParse({ nodes: [node()], ...config });

describe('the config schema resolves what it validates', () => {
  it('gives every duration in milliseconds, its text kept where a message needs it', () => {
    const r = parse({ purge: { maxClockSkew: 'PT3M', planMaxAge: 'P2D' }, daemon: { jitter: 'PT0S', drainTimeout: 'PT90S' } });
    expect(r.success).toBe(true);
    const c = r.data!;
    expect(c.purge.maxClockSkewMs).toBe(180_000);
    expect([c.purge.planMaxAgeMs, c.purge.planMaxAgeText]).toEqual([2 * 86_400_000, 'P2D']);
    expect([c.daemon.jitterMs, c.daemon.drainTimeoutMs]).toEqual([0, 90_000]);
    const db = c.nodes[0]!.database;
    expect([db.connectTimeout, db.connectTimeoutMs, db.statementTimeout, db.statementTimeoutMs]).toEqual(['PT15S', 15_000, 'PT5M', 300_000]);
    expect(c.alarms.delivery).toEqual({ maxQueued: 10_000, retryInitialMs: 5_000, retryMaxMs: 300_000 });
  });

  it('reads a size the same way in the limits and in the alarms: 500mib is 500 MiB in both', () => {
    const r = parse({ purge: { limits: { maxBytes: '500mib', maxBytesPerRun: '1.5 TB' } }, alarms: { freeSpace: { lowerFreeBytes: '500mib' }, database: { capacity: '20GiB' } } });
    expect(r.success).toBe(true);
    const n = r.data!.nodes[0]!;
    expect(n.limits.maxBytes).toBe(500 * 2 ** 20);
    expect(n.alarms.freeSpace.lowerFreeBytes).toBe(500 * 2 ** 20);
    expect(n.limits.maxBytesPerRun).toBe(1.5e12);
    expect(n.alarms.database.capacityBytes).toBe(20 * 2 ** 30);
    expect(parseByteSize('500mib')).toBe(parseByteSize('500MiB'));
  });

  it('refuses the same bad sizes everywhere: a limit of 0 bytes, an unknown unit', () => {
    for (const limits of [{ maxBytes: 0 }, { maxBytes: '0 MB' }, { maxBytes: '5 parsecs' }]) {
      expect(parse({ purge: { limits } }).success, JSON.stringify(limits)).toBe(false);
    }
    expect(parse({ alarms: { freeSpace: { lowerFreeBytes: '5 parsecs' } } }).success).toBe(false);
    // 0 free bytes is a threshold that means something (an empty disk); 0 bytes removed a run does not.
    expect(parse({ alarms: { freeSpace: { lowerFreeBytes: 0 } } }).success).toBe(true);
  });

  it('resolves relative paths against the config file directory and normalises the node directory', () => {
    const r = parse({ daemon: { stateDirectory: 'state' }, policiesDirectory: 'pol' });
    const c = r.data!;
    expect(c.daemon.stateDirectory).toBe('/etc/mft-retention/state');
    expect(c.policiesDirectory).toBe('/etc/mft-retention/pol');
    expect(c.nodes[0]!.database.password).toEqual({ kind: 'file', path: '/etc/mft-retention/secrets/db.password' });
    expect(c.nodes[0]!.fileServer.directory).toBe('/srv/mft/node_1');
  });

  it('reports a rule across keys at the key, with the value shown and the fix, like a rule on one key', () => {
    const r = configFileSchema('/etc/mft-retention').safeParse({ nodes: [node({ passwordEnv: 'DB_PASSWORD' })] });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.code === 'custom')!;
    expect(issue.path).toEqual(['nodes', 0, 'database']);
    expect(issue.message).toMatch(/at most one of passwordFile, passwordEnv, passwordCredential/);
    expect((issue as { params?: Record<string, string> }).params).toEqual({ value: '2 sources', fix: 'keep only one place to read the secret from' });
  });
});
