import { describe, it, expect, afterAll } from 'vitest';
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configCheckCommand } from '../../src/cli/configCheckCommand.js';
import type { Io } from '../../src/cli/io.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), env: {} };
}

describe('config check --json', () => {
  it('prints the problems of a bad config as JSON on standard output, exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mft-cc-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'policies'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, 'purge:\n  batchSiz: 10\nnodes: []\n');
    const io = capture();
    const code = await configCheckCommand(file, true, io);
    expect(code).toBe(2);
    const out = JSON.parse(io.stdout.join('\n'));
    expect(out.ok).toBe(false);
    expect(out.problems).toContainEqual(expect.objectContaining({ file, key: 'purge.batchSiz', line: 2 }));
    expect(out.problems.find((p: { key: string }) => p.key === 'purge.batchSiz').fix).toMatch(/did you mean "batchSize"/);
  });
});

describe('config check: secret files others can read', () => {
  it('warns, naming the file, its mode and the chmod that fixes it; never its content', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mft-cc-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'policies'));
    const pw = path.join(dir, 'db.password');
    writeFileSync(pw, 'sup3r-secret-pw\n', { mode: 0o644 });
    writeFileSync(path.join(dir, 'id_ed25519'), 'KEY', { mode: 0o640 });
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'nodes:',
        '  - name: node_1',
        `    database: { type: postgres, host: 127.0.0.1, database: d, user: u, passwordFile: ${pw} }`,
        `    fileServer: { type: sftp, host: 127.0.0.1, username: u, privateKeyFile: id_ed25519, hostKey: "SHA256:${'A'.repeat(43)}", directory: /srv/n1 }`,
        '',
      ].join('\n'),
    );
    const io = capture();
    expect(await configCheckCommand(file, false, io)).toBe(0);
    const warnings = io.stderr.filter((l) => /warning/.test(l));
    expect(warnings).toHaveLength(1); // the key is 0640: group-readable is how the service reads it
    expect(warnings[0]).toContain(pw);
    expect(warnings[0]).toContain('mode 0644');
    expect(warnings[0]).toContain(`chmod o-rwx ${pw}`);
    expect([...io.stdout, ...io.stderr].join('\n')).not.toContain('sup3r-secret-pw');

    const jsonIo = capture();
    expect(await configCheckCommand(file, true, jsonIo)).toBe(0);
    const out = JSON.parse(jsonIo.stdout.join('\n'));
    expect(out.warnings).toEqual([expect.objectContaining({ node: 'node_1', what: 'database password', file: pw, mode: 0o644 })]);
  });
});

describe('the shipped example config', () => {
  it('passes config check beside the shipped policies, and sends alarms nowhere but the log', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mft-cc-'));
    dirs.push(dir);
    const root = path.resolve(import.meta.dirname, '../..');
    cpSync(path.join(root, 'examples/config.yaml'), path.join(dir, 'config.yaml'));
    cpSync(path.join(root, 'policies'), path.join(dir, 'policies'), { recursive: true });
    const io = capture();
    expect(await configCheckCommand(path.join(dir, 'config.yaml'), true, io)).toBe(0);
    const out = JSON.parse(io.stdout.join('\n'));
    expect(out.alarms.sinks).toEqual([]); // the log always gets them; no other sink is set up
  });
});
