import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
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
