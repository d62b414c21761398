// The spawned CLI's handling of configuration: errors exit 2 and say which file, key and value
// are wrong and what was expected; `config check` shows the effective settings; the database
// password never appears in any output; usage errors exit 2 with the usage text.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { HOUR_MS, hourStart, runCli, show, summaryRecord, usePurgeEnv, type CliResult } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();
/** The mft role's password on this file's private server: distinctive, so a leak is unmistakable. */
const PASSWORD = `Pw-${randomBytes(9).toString('hex')}-Zq`;
const WRONG_PASSWORD = `Wrong-${randomBytes(9).toString('hex')}-Xk`;

beforeAll(async () => {
  const c = new pg.Client(env.pg.connectionConfig());
  await c.connect();
  await c.query(`ALTER ROLE mft PASSWORD '${PASSWORD}'`);
  await c.end();
});

const ago = (hours: number) => new Date(hourStart().getTime() - hours * HOUR_MS);

function expectNoSecrets(r: CliResult): void {
  const out = r.stdout + r.stderr;
  expect(out).not.toContain(PASSWORD);
  expect(out).not.toContain(WRONG_PASSWORD);
  expect(out).not.toContain(env.pg.mftUser.password);
  for (const line of env.sshd.clientPrivateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
    expect(out).not.toContain(line);
  }
}

describe('config errors (exit 2)', () => {
  it('an unknown key names the file, line, key and the keys expected', async () => {
    const f = await env.fixture({
      password: PASSWORD,
      mutate: (c) => {
        c.nodes[0].database.pasword = 'hunter2-not-a-real-password';
        c.retension = 'P1D';
      },
    });
    const r = await runCli(['config', 'check', '--config', f.configPath]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(f.configPath);
    expect(r.stderr).toMatch(new RegExp(`${f.configPath}:\\d+: key "nodes\\[0\\]\\.database\\.pasword": got an unknown key; expected `));
    expect(r.stderr).toMatch(/key "retension": got an unknown key; expected one of: policiesDirectory, purge, log/);
    // The value of a misspelt (maybe secret) key is not echoed.
    expect(r.stderr).not.toContain('hunter2');
    // The same error from purge, before anything is touched.
    const p = await runCli(['purge', '--config', f.configPath]);
    expect(p.code, show(p)).toBe(2);
    expect(p.stderr).toContain('pasword');
  });

  it('a duplicate key names the file, the line and the repeated key', async () => {
    const f = await env.fixture({ password: PASSWORD });
    const text = `policiesDirectory: policies
purge:
  batchSize: 100
  batchSize: 5000
nodes: []
`;
    writeFileSync(f.configPath, text);
    const r = await runCli(['config', 'check', '--config', f.configPath]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain(`${f.configPath}:4`);
    expect(r.stderr).toMatch(/expected each key once/);
    // Which key is repeated must be said, not only where.
    expect(r.stderr).toContain('batchSize');
  });

  it('a bad duration names the file, key, value and the form expected (policy files and config)', async () => {
    const f = await env.fixture({ password: PASSWORD, policies: { im: '7d', groupchat: 'PT0S', persistent: 'P1Y' } });
    const r = await runCli(['config', 'check', '--config', f.configPath]);
    expect(r.code, show(r)).toBe(2);
    const im = join(f.policiesDir, 'im.yaml');
    const gc = join(f.policiesDir, 'groupchat.yaml');
    expect(r.stderr).toContain(`${im}:2: key "retention": got "7d"; expected retention: an ISO-8601 duration greater than zero`);
    expect(r.stderr).toContain(`${gc}:2: key "retention": got "PT0S"; expected`);
    const p = await runCli(['purge', '--config', f.configPath, '--dry-run']);
    expect(p.code, show(p)).toBe(2);
    expect(p.stderr).toContain(im);

    const g = await env.fixture({ password: PASSWORD });
    g.config.purge.maxClockSkew = '2 minutes';
    g.writeConfig();
    const c = await runCli(['config', 'check', '--config', g.configPath]);
    expect(c.code, show(c)).toBe(2);
    expect(c.stderr).toMatch(new RegExp(`${g.configPath}:\\d+: key "purge\\.maxClockSkew": got "2 minutes"; expected maxClockSkew: an ISO-8601 duration`));
  });

  it('a missing config file names the path and ENOENT', async () => {
    const missing = join(env.sshd.dir, 'no-such-dir', 'config.yaml');
    for (const args of [['config', 'check', '--config', missing], ['purge', '--config', missing], ['purge', '--dry-run', '--config', missing]]) {
      const r = await runCli(args);
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toContain(missing);
      expect(r.stderr).toMatch(/ENOENT/);
      expect(r.stderr).toMatch(/expected a readable YAML file/);
    }
  });

  it('without --config, $MFT_RETENTION_CONFIG is used, and a missing one is named with the fix', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const r = await runCli(['config', 'check'], { env: { MFT_RETENTION_CONFIG: f.configPath } });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`Configuration OK: ${f.configPath}`);
    const missing = join(env.sshd.dir, 'nowhere.yaml');
    const m = await runCli(['purge', '--dry-run'], { env: { MFT_RETENTION_CONFIG: missing } });
    expect(m.code, show(m)).toBe(2);
    expect(m.stderr).toContain(`$MFT_RETENTION_CONFIG names ${missing}, which does not exist`);
  });

  it('a bad port, node directory or host key names key, value and expectation', async () => {
    const f = await env.fixture({ password: PASSWORD, mutate: (c) => (c.nodes[0].database.port = 'fivefourthreetwo') });
    const r = await runCli(['config', 'check', '--config', f.configPath]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/key "nodes\[0\]\.database\.port": got "fivefourthreetwo"; expected/);

    const g = await env.fixture({
      password: PASSWORD,
      mutate: (c) => {
        c.nodes[0].fileServer.directory = '/srv/mft/../etc';
        c.nodes[0].fileServer.hostKey = 'not-a-host-key';
      },
    });
    const q = await runCli(['config', 'check', '--config', g.configPath]);
    expect(q.code, show(q)).toBe(2);
    expect(q.stderr).toMatch(/key "nodes\[0\]\.fileServer\.directory": got "\/srv\/mft\/\.\.\/etc"; expected an absolute directory/);
    expect(q.stderr).toMatch(/key "nodes\[0\]\.fileServer\.hostKey": got "not-a-host-key"; expected the file server's host key/);
  });
});

describe('secrets', () => {
  it('config check prints the effective settings and where the password comes from, never the password', async () => {
    const f = await env.fixture({ password: PASSWORD, policies: { im: 'PT36H', groupchat: 'forever' } });
    const r = await runCli(['config', 'check', '--config', f.configPath]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`Configuration OK: ${f.configPath}`);
    const settings = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    const node = settings.nodes[0];
    expect(node.database).toMatchObject({ host: '127.0.0.1', port: env.pg.port, user: 'mft', password: `(from file ${f.passwordFile})` });
    expect(node.fileServer).toMatchObject({ type: 'sftp', port: env.sshd.port, username: env.sshd.username, directory: f.node.dir });
    expect(node.fileServer.hostKey).toContain(env.sshd.hostKeyFingerprint);
    expect(node.policies.im).toMatchObject({ retention: 'PT36H' });
    expect(node.policies.groupchat).toMatchObject({ retention: 'forever' });
    expect(node.policies.persistent.retention).toMatch(/never purged/);
    expectNoSecrets(r);

    const json = await runCli(['config', 'check', '--json', '--config', f.configPath]);
    expect(json.code, show(json)).toBe(0);
    expect(JSON.parse(json.stdout).nodes[0].database.password).toBe(`(from file ${f.passwordFile})`);
    expectNoSecrets(json);
  });

  it('the password never appears in the output of dry-runs and purges, successful or failing on a wrong password (exit 3)', async () => {
    const f = await env.fixture({ password: PASSWORD, policies: { im: 'PT1H' } });
    const u = await f.node.upload({ at: ago(5), gets: [ago(4)] });
    for (const args of [['--dry-run'], ['--dry-run', '--json'], ['--dry-run', '--log-level', 'trace'], ['--json', '--log-level', 'trace']]) {
      const r = await f.purge(...args);
      expect(r.code, show(r)).toBe(0);
      expectNoSecrets(r);
    }
    expect(await f.node.indexes()).toEqual([]);

    // Now with a wrong password in the file.
    const v = await f.node.upload({ at: ago(5) });
    writeFileSync(f.passwordFile, `${WRONG_PASSWORD}\n`);
    for (const args of [['--dry-run'], ['--json'], [], ['--log-level', 'trace']]) {
      const r = await f.purge(...args);
      expect(r.code, show(r)).toBe(3);
      expect(r.stdout + r.stderr).toMatch(/password authentication failed/);
      expectNoSecrets(r);
    }
    const check = await runCli(['config', 'check', '--config', f.configPath]);
    expect(check.code, show(check)).toBe(0);
    expectNoSecrets(check);
    expect(await f.node.indexes()).toEqual(v.indexes);
    expect(u.path).toBeTruthy();

    // A password file that cannot be read: exit 3, names the file.
    writeFileSync(f.passwordFile, '');
    const missing = join(f.configDir, 'gone.password');
    f.config.nodes[0].database.passwordFile = missing;
    f.writeConfig();
    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(3);
    expect(summaryRecord(r.stdout).nodes[0].error).toContain(missing);
  });
});

describe('usage errors (exit 2)', () => {
  it('an unknown command exits 2 with the usage', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('Usage: mft-retention <command>');
  });

  it('no command, "config" without "check", an unknown option, a missing --config and an unknown --log-level exit 2 with the usage', async () => {
    const none = await runCli([]);
    expect(none.code, show(none)).toBe(2);
    expect(none.stdout + none.stderr).toContain('Usage: mft-retention');
    for (const args of [['config', 'list', '--config', 'x.yaml'], ['purge', '--bogus'], ['purge'], ['config', 'check']]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
      expect(r.stderr).toContain('Usage: mft-retention');
    }
    const level = await runCli(['purge', '--config', 'x.yaml', '--dry-run', '--log-level', 'loud']);
    expect(level.code, show(level)).toBe(2);
    expect(level.stderr).toContain('--log-level: got "loud"; expected one of fatal, error, warn, info, debug, trace');
    expect(level.stderr).not.toContain('    at ');
    const help = await runCli(['help']);
    expect(help.code, show(help)).toBe(0);
    expect(help.stdout).toContain('Usage: mft-retention');
  });
});
