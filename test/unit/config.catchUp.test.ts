import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'mft-catchup-config-'));
mkdirSync(join(dir, 'policies'));
writeFileSync(join(dir, 'policies', 'im.yaml'), 'chatType: im\nretention: P7D\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  database: { type: 'postgres', host: 'db', database: 'tcmadb', user: 'mft', passwordEnv: 'PW' },
  fileServer: { type: 'local', directory: `/srv/mft/${name}` },
  ...extra,
});

function write(config: Record<string, unknown>): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('catch-up settings in the config', () => {
  it('resolves the rate, the per-run caps and the windows, a node\'s own values over the shared ones', async () => {
    const c = await loadConfig(
      write({
        purge: { maxFilesPerSecond: 200, limits: { maxFilesPerRun: 50_000, maxBytesPerRun: '20GiB' } },
        daemon: { timezone: 'Europe/Berlin', windows: ['01:00-05:00', 'Sat,Sun 00:00-24:00'] },
        nodes: [node('node_1'), node('node_2', { purge: { maxFilesPerSecond: 0 }, limits: { maxFilesPerRun: 1000 } }), node('node_3', { purge: { maxFilesPerSecond: 7.5 } })],
      }),
      {},
    );
    expect(c.nodes.map((n) => [n.name, n.maxFilesPerSecond, n.limits.maxFilesPerRun, n.limits.maxBytesPerRun])).toEqual([
      ['node_1', 200, 50_000, 20 * 2 ** 30],
      ['node_2', undefined, 1000, 20 * 2 ** 30],
      ['node_3', 7.5, 50_000, 20 * 2 ** 30],
    ]);
    expect(c.daemon.windows.map((w) => [w.text, w.days.length, w.start, w.end])).toEqual([
      ['01:00-05:00', 7, 60, 300],
      ['Sat,Sun 00:00-24:00', 2, 0, 1440],
    ]);
  });

  it('without them: no rate, no cap, no windows', async () => {
    const c = await loadConfig(write({ nodes: [node('node_1')] }), {});
    expect(c.nodes[0]!.maxFilesPerSecond).toBeUndefined();
    expect(c.nodes[0]!.limits.maxFilesPerRun).toBeUndefined();
    expect(c.daemon.windows).toEqual([]);
  });

  it('names the key, the value and what is expected for a bad window, rate or cap', async () => {
    const err = await loadConfig(
      write({
        purge: { maxFilesPerSecond: -1, limits: { maxFilesPerRun: 0, maxBytesPerRun: 'lots' } },
        daemon: { windows: ['1-5', 'Funday 01:00-02:00'] },
        nodes: [node('node_1', { purge: { maxFilesPerSecond: 'fast' } })],
      }),
      {},
    ).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect(msg).toMatch(/daemon\.windows\[0\][\s\S]*"01:00-05:00"/);
    expect(msg).toMatch(/daemon\.windows\[1\][\s\S]*"Funday" is not a day/);
    expect(msg).toMatch(/purge\.maxFilesPerSecond/);
    expect(msg).toMatch(/purge\.limits\.maxFilesPerRun/);
    expect(msg).toMatch(/purge\.limits\.maxBytesPerRun/);
    expect(msg).toMatch(/nodes\[0\]\.purge\.maxFilesPerSecond/);
  });
});
