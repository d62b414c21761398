import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { asServiceManPage, commandManPage, configManPage } from '../../src/cli/manPages.js';
import { COMMANDS, commandName } from '../../src/cli/commandTable.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const GROFF = '/usr/bin/groff';

describe('man pages', () => {
  it.each([
    ['man/mft-retention.1', () => commandManPage(version)],
    ['man/mft-retention.yaml.5', () => configManPage(version)],
    ['man/mft-retention-as-service.1', () => asServiceManPage(version)],
  ])('%s is what the command table and the schema generate (regenerate: npm run build && node scripts/man-pages.mjs)', (file, make) => {
    expect(readFileSync(path.join(ROOT, file), 'utf8')).toBe(make());
  });

  it('mft-retention(1) has a section for every command and every option, as --help does', () => {
    if (!existsSync(GROFF)) throw new Error(`${GROFF} is missing: apt-get install groff-base`);
    const text = execFileSync(GROFF, ['-man', '-Tutf8', '-P', '-c', '-ww'], { input: commandManPage(version), encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).replace(/.\x08/g, '');
    for (const c of COMMANDS) {
      expect(text).toContain(commandName(c));
      for (const o of c.options) expect(text, `--${o.name} of ${commandName(c)}`).toContain(`--${o.name}`);
    }
    expect(text).toContain('/etc/mft-retention/config.yaml');
  });

  it('both pages render without a groff warning', () => {
    for (const page of [commandManPage(version), configManPage(version), asServiceManPage(version)]) {
      const r = execFileSync(GROFF, ['-man', '-z', '-ww'], { input: page, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
      expect(r).toBe('');
    }
  });
});
