import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeLockKey } from '../../src/adapters/postgres/nodeLock.js';
import { loadConfig } from '../../src/config/loadConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'mft-daemon-config-'));
mkdirSync(join(dir, 'policies'));
writeFileSync(join(dir, 'policies', 'im.yaml'), 'chatType: im\nretention: P7D\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE = {
  name: 'node_1',
  database: { type: 'postgres', host: 'db', database: 'tcmadb', user: 'mft', passwordEnv: 'PW' },
  fileServer: { type: 'local', directory: '/srv/mft/node_1' },
};

function write(daemon?: unknown): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, JSON.stringify({ ...(daemon === undefined ? {} : { daemon }), nodes: [NODE] }));
  return file;
}

describe('daemon config section', () => {
  it('has defaults: hourly at minute 5 in UTC, no jitter, 60 s drain, loopback:9464, $STATE_DIRECTORY', async () => {
    const c = await loadConfig(write(), { STATE_DIRECTORY: '/var/lib/mft-retention:/other' });
    expect(c.daemon).toEqual({
      schedule: '5 * * * *',
      timezone: 'UTC',
      jitterMs: 0,
      drainTimeoutMs: 60_000,
      http: { host: '127.0.0.1', port: 9464 },
      stateDirectory: '/var/lib/mft-retention',
      windows: [],
    });
  });

  it('resolves given values: jitter, IPv6 listen address, a state directory relative to the config file', async () => {
    const c = await loadConfig(write({ schedule: '*/10 * * * * *', timezone: 'Europe/Berlin', jitter: 'PT2M', drainTimeout: 'PT5S', http: { listen: '[::1]:0' }, stateDirectory: 'state' }), {});
    expect(c.daemon).toEqual({
      schedule: '*/10 * * * * *',
      timezone: 'Europe/Berlin',
      jitterMs: 120_000,
      drainTimeoutMs: 5_000,
      http: { host: '::1', port: 0 },
      stateDirectory: join(dir, 'state'),
      windows: [],
    });
  });

  it('rejects a bad schedule, listen address or unknown key, naming each', async () => {
    const err = await loadConfig(write({ schedule: 'hourly', http: { listen: 'localhost' }, drainTimeout: 'PT0S', cron: 'x' }), {}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/daemon\.schedule/);
    expect(msg).toMatch(/daemon\.http\.listen/);
    expect(msg).toMatch(/daemon\.drainTimeout/);
    expect(msg).toMatch(/cron/);
  });
});

describe('nodeLockKey', () => {
  it('is a stable signed 64-bit key per table and node', () => {
    const k = nodeLockKey({ schema: 'public', table: 'aft_log' }, 'node_1');
    expect(k).toBe(nodeLockKey({ schema: 'public', table: 'aft_log' }, 'node_1'));
    expect(k).not.toBe(nodeLockKey({ schema: 'public', table: 'aft_log' }, 'node_2'));
    expect(k).not.toBe(nodeLockKey({ schema: 'other', table: 'aft_log' }, 'node_1'));
    const n = BigInt(k);
    expect(n >= -(2n ** 63n) && n < 2n ** 63n).toBe(true);
  });
});
