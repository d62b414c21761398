import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programVersion, versionText } from '../../src/cli/version.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('versionText', () => {
  it('prints the version package.json states', () => {
    expect(versionText(false)).toBe(`mft-retention ${pkg.version}`);
  });

  it('names the Node.js runtime and its binary with --verbose', () => {
    const lines = versionText(true).split('\n');
    expect(lines[0]).toBe(`mft-retention ${pkg.version}`);
    expect(lines[1]).toBe(`Node.js ${process.version} (${process.execPath})`);
  });

  it('says which file lacks a version', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'version-')), 'package.json');
    writeFileSync(file, '{"name":"mft-retention"}');
    expect(() => programVersion(file)).toThrow(`${file}: "version" is missing; reinstall mft-retention`);
  });
});
