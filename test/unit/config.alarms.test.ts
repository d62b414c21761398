import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/loadConfig.js';
import { ConfigError } from '../../src/config/configError.js';
import { effectiveSettings } from '../../src/cli/configCheckCommand.js';

const VALID_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/config/valid');
const BASE = readFileSync(path.join(VALID_DIR, 'config.yaml'), 'utf8');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function write(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mft-alarm-config-'));
  dirs.push(dir);
  cpSync(VALID_DIR, dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.yaml'), text);
  return path.join(dir, 'config.yaml');
}

async function problems(text: string) {
  const err = await loadConfig(write(text), { MFT_DB_PASSWORD_NODE_2: 'x' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

const withAlarms = (yaml: string): string => BASE.replace('nodes:\n', `${yaml}\nnodes:\n`);

describe('alarms: in the config', () => {
  it("defaults to Cisco's 10/15 % free-space thresholds, a 5 minute check and the log as the only sink", async () => {
    const config = await loadConfig(write(BASE), {});
    expect(config.alarms.checkIntervalMs).toBe(300_000);
    expect(config.alarms.sinks).toEqual([]);
    expect(config.nodes[0]!.alarms.freeSpace).toMatchObject({ lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true });
    expect(config.nodes[0]!.alarms.database).toMatchObject({ raisePercent: 90, clearPercent: 85, capacityBytes: undefined });
    expect(config.nodes[0]!.alarms.stalled).toEqual({ maxTimeWithoutSuccessMs: 6 * 3_600_000, maxBacklogAgeMs: 6 * 3_600_000 });
  });

  it('rejects a lower free-space threshold above the upper one, naming file, line, key, value and the fix', async () => {
    const text = withAlarms('alarms:\n  freeSpace:\n    lowerPercent: 20\n    upperPercent: 15');
    const [p, ...rest] = await problems(text);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ key: 'alarms.freeSpace.lowerPercent', value: '20', line: text.split('\n').findIndex((l) => l.includes('lowerPercent: 20')) + 1 });
    expect(p!.expected).toContain('at most the upper one (upperPercent is 15)');
    expect(p!.fix).toMatch(/raised at or below lowerPercent and cleared at or above upperPercent/);
  });

  it('checks a node override together with the shared thresholds and points at the node key', async () => {
    const text = withAlarms('alarms:\n  freeSpace: { upperPercent: 12 }').replace('      im: { retention: PT36H }', '      im: { retention: PT36H }\n    alarms:\n      freeSpace: { lowerPercent: 13 }');
    const [p] = await problems(text);
    expect(p!.key).toBe('nodes[1].alarms.freeSpace.lowerPercent');
  });

  it('node overrides win over shared values: a capacity per node', async () => {
    const text = withAlarms('alarms:\n  database: { capacity: 100GiB, raisePercent: 80, clearPercent: 70 }').replace('      im: { retention: PT36H }', '      im: { retention: PT36H }\n    alarms:\n      database: { capacity: 2TB }');
    const config = await loadConfig(write(text), {});
    expect(config.nodes[0]!.alarms.database).toEqual({ capacityBytes: 100 * 2 ** 30, raisePercent: 80, clearPercent: 70 });
    expect(config.nodes[1]!.alarms.database).toEqual({ capacityBytes: 2e12, raisePercent: 80, clearPercent: 70 });
  });

  it('reports a clear percentage above the raise one, a bad size and a bad duration all at once', async () => {
    const ps = await problems(withAlarms('alarms:\n  checkInterval: 5m\n  database: { capacity: lots, raisePercent: 80, clearPercent: 95 }'));
    expect(ps.map((p) => p.key).sort()).toEqual(['alarms.checkInterval', 'alarms.database.capacity']);
    // The cross-field rule is checked once the values themselves are valid.
    const [p] = await problems(withAlarms('alarms:\n  database: { raisePercent: 80, clearPercent: 95 }'));
    expect(p).toMatchObject({ key: 'alarms.database.clearPercent', value: '95' });
  });

  it('rejects two sinks with the same name and an HMAC key given in two places', async () => {
    const ps = await problems(
      withAlarms(
        'alarms:\n  sinks:\n    - { type: webhook, url: "https://hooks.example.com/a", hmac: { secretFile: k, secretEnv: K } }\n    - { type: webhook, url: "https://hooks.example.com/b" }',
      ),
    );
    expect(ps.map((p) => p.key).sort()).toEqual(['alarms.sinks[0].hmac', 'alarms.sinks[1].name']);
  });

  it('rejects an unknown sink type and a non-HTTP URL', async () => {
    const ps = await problems(withAlarms('alarms:\n  sinks:\n    - { type: pager, url: x }\n    - { type: alertmanager, url: "ftp://am.example.com" }'));
    expect(ps.map((p) => p.key).sort()).toEqual(['alarms.sinks[0].type', 'alarms.sinks[1].url']);
  });

  it('config check masks header values, URL credentials and says where the HMAC key comes from', async () => {
    const config = await loadConfig(
      write(
        withAlarms(
          'alarms:\n  sinks:\n    - { type: webhook, name: ops, url: "https://user:pa55@hooks.example.com/x?token=t0k3n", headers: { Authorization: "Bearer s3cr3t" }, hmac: { secretEnv: HOOK_KEY } }\n    - { type: syslog, protocol: tcp }',
        ),
      ),
      {},
    );
    const text = JSON.stringify(effectiveSettings(config));
    for (const secret of ['pa55', 't0k3n', 's3cr3t']) expect(text).not.toContain(secret);
    expect(text).toContain('(key from environment variable HOOK_KEY)');
    expect(text).toContain('"Authorization":"(hidden)"');
  });

  it('sends purge finished events only to the sinks that ask for them (purgeFinished: true), never to Alertmanager', async () => {
    const config = await loadConfig(write(withAlarms('alarms:\n  sinks:\n    - { type: webhook, url: "http://127.0.0.1:9/e", purgeFinished: true }\n    - { type: syslog, name: s }\n    - { type: log, purgeFinished: true }')), {});
    expect(config.alarms.sinks.map((s) => [s.name, 'purgeFinished' in s && s.purgeFinished])).toEqual([['webhook', true], ['s', false], ['log', true]]);
    const [p, ...rest] = await problems(withAlarms('alarms:\n  sinks:\n    - { type: alertmanager, url: "http://127.0.0.1:9093", purgeFinished: true }'));
    expect(rest).toEqual([]);
    expect(`${p!.key} ${p!.expected}`).toContain('purgeFinished');
  });
});
