import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { effectiveSettings } from '../../src/cli/configCheckCommand.js';
import { ConfigError, formatProblem } from '../../src/config/configError.js';
import { loadConfig } from '../../src/config/loadConfig.js';

const VALID_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/config/valid');
const BASE = readFileSync(path.join(VALID_DIR, 'config.yaml'), 'utf8');
const PG_DATABASE = `    database:
      type: postgres
      host: db.example.com
      database: tcmadb_node1
      user: mft_retention
      passwordFile: db-node_1.password
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The valid fixture with node_1's database replaced by these YAML lines (6-space indented keys). */
async function load(databaseYaml: string) {
  if (!BASE.includes(PG_DATABASE)) throw new Error('test setup: fixture changed');
  const dir = mkdtempSync(path.join(tmpdir(), 'mft-oracle-config-'));
  dirs.push(dir);
  cpSync(VALID_DIR, dir, { recursive: true });
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, BASE.replace(PG_DATABASE, `    database:\n${databaseYaml}`));
  return { file, dir, load: () => loadConfig(file) };
}

const problems = async (databaseYaml: string): Promise<string[]> => {
  const { load: run } = await load(databaseYaml);
  const err = await run().then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems.map(formatProblem);
};

describe('database.type: oracle', () => {
  it('builds an Easy Connect string from host and serviceName, port 1521 by default and 2484 with TLS', async () => {
    const plain = await (await load('      type: oracle\n      host: ora.example.com\n      serviceName: MFTDB\n      user: mft_retention\n      passwordFile: db-node_1.password\n')).load();
    expect(plain.nodes[0]!.database).toMatchObject({ type: 'oracle', connectString: 'ora.example.com:1521/MFTDB', table: 'AFT_LOG', timestampZone: 'UTC', connectTimeoutMs: 15_000 });
    const { dir, load: run } = await load('      type: oracle\n      host: ora.example.com\n      serviceName: MFTDB\n      user: mft_retention\n      passwordEnv: ORA_PW\n      owner: MFTADMIN\n      tls:\n        walletLocation: wallet\n        walletPasswordCredential: wallet-pw\n');
    const tls = (await run()).nodes[0]!.database;
    expect(tls).toMatchObject({ connectString: 'tcps://ora.example.com:2484/MFTDB', owner: 'MFTADMIN', tls: { walletLocation: path.join(dir, 'wallet'), walletPassword: { kind: 'credential', name: 'wallet-pw' } } });
  });

  it('takes a whole connectString as given', async () => {
    const c = await (await load('      type: oracle\n      connectString: "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=MFTDB)))"\n      user: mft_retention\n')).load();
    expect(c.nodes[0]!.database).toMatchObject({ connectString: '(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=MFTDB)))' });
  });

  it('refuses connectString together with host, naming the key and the fix', async () => {
    const p = await problems('      type: oracle\n      connectString: ora:1521/MFTDB\n      host: ora.example.com\n      user: mft_retention\n');
    expect(p.join('\n')).toMatch(/key "nodes\[0\]\.database\.host": got "ora\.example\.com"; expected either connectString or host\/port\/serviceName, not both/);
  });

  it('refuses host without serviceName', async () => {
    const p = await problems('      type: oracle\n      host: ora.example.com\n      user: mft_retention\n');
    expect(p.join('\n')).toMatch(/nodes\[0\]\.database\.serviceName.*expected connectString, or host and serviceName/);
  });

  it('refuses two password sources, and a wallet together with a CA file', async () => {
    const p = await problems('      type: oracle\n      host: ora\n      serviceName: S\n      user: u\n      passwordFile: a\n      passwordEnv: B\n      tls:\n        walletLocation: w\n        caFile: ca.pem\n');
    expect(p.join('\n')).toMatch(/at most one of passwordFile, passwordEnv, passwordCredential/);
    expect(p.join('\n')).toMatch(/either tls\.walletLocation or tls\.caFile, not both/);
  });

  it('refuses a quoted or odd owner/table name', async () => {
    const p = await problems('      type: oracle\n      connectString: ora:1521/S\n      user: u\n      table: "AFT LOG; DROP"\n');
    expect(p.join('\n')).toMatch(/nodes\[0\]\.database\.table.*unquoted Oracle identifier/);
  });

  it('config check shows where the secrets come from, never the secrets', async () => {
    const c = await (await load('      type: oracle\n      host: ora.example.com\n      serviceName: MFTDB\n      user: mft_retention\n      passwordEnv: ORA_PW\n      tls:\n        walletLocation: wallet\n        walletPasswordEnv: WALLET_PW\n')).load();
    const shown = effectiveSettings(c) as { nodes: Array<{ database: Record<string, unknown> }> };
    expect(shown.nodes[0]!.database).toMatchObject({
      type: 'oracle',
      connectString: 'tcps://ora.example.com:2484/MFTDB',
      password: '(from environment variable ORA_PW)',
      table: "AFT_LOG (in mft_retention's schema)",
      tls: { walletPassword: '(from environment variable WALLET_PW)' },
    });
  });
});
