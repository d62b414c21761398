// The one way state files are written: whole or not at all, and no temporary file left behind.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/stateFiles/writeFileAtomic.js';

describe('writeFileAtomic', () => {
  it('replaces the file, with the mode asked for, creating the directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mft-atomic-')), 'state');
    const file = join(dir, 'alarms.json');
    await writeFileAtomic(file, 'one\n');
    await writeFileAtomic(file, 'two\n', 0o640);
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    expect(readdirSync(dir)).toEqual(['alarms.json']);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('a write that fails leaves the old content and no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-atomic-'));
    // The rename cannot replace a non-empty directory: the write fails after the temp file was written.
    const target = join(dir, 'purge-history.json');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir)).toEqual(['purge-history.json']);
    expect(readdirSync(target)).toEqual(['keep']);
  });
});
