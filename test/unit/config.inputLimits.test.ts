// Input limits and exact parsing: aliases bounded, files capped, durations and dates strict,
// each refusal a ConfigError or usage error that names the file or the option.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/configError.js';
import { isIsoDurationText, parseIsoDuration } from '../../src/config/duration.js';
import { MAX_YAML_BYTES, parseYamlText, readYamlFile } from '../../src/config/yamlFile.js';
import { parseIsoInstant } from '../../src/core/isoInstant.js';

const dir = mkdtempSync(join(tmpdir(), 'mft-limits-'));

describe('YAML limits', () => {
  it('a "billion laughs" file is a ConfigError naming the file, not a crash', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const run = () => parseYamlText('/etc/mft-retention/laughs.yaml', lines.join('\n'));
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/laughs\.yaml: .*aliases \(\*name\) expand at most 100 times/);
  });

  it('a file over the size cap is refused before it is read, naming the file and the size', async () => {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, 'x'.repeat(MAX_YAML_BYTES + 1));
    await expect(readYamlFile(file)).rejects.toThrow(new RegExp(`huge\\.yaml: got ${MAX_YAML_BYTES + 1} bytes; expected a configuration file of at most ${MAX_YAML_BYTES} bytes`));
  });

  it('duplicate keys are still found, with their line, in linear time', () => {
    expect(() => parseYamlText('/c.yaml', 'a: 1\nb:\n  x: 1\n  x: 2\n')).toThrow(/\/c\.yaml:4: key "x": got the key a second time; expected each key once/);
    const many = Array.from({ length: 30_000 }, (_, i) => `k${i}: v`).join('\n');
    const started = process.hrtime.bigint();
    expect(() => parseYamlText('/big.yaml', `${many}\nk7: again\n`)).toThrow(/key "k7": got the key a second time/);
    // Not a timing test of speed, a guard against the quadratic check (30 s here): generous.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(20);
  });
});

describe('strict durations', () => {
  it.each(['P1DT', 'PT', 'P', 'P1H', 'PT1D', '1D', 'P-1D', 'P1DT1', 'p1d'])('%s is refused', (text) => {
    expect(isIsoDurationText(text)).toBe(false);
    expect(parseIsoDuration(text)).toBeUndefined();
  });
  it.each([['P1D', 86_400_000], ['PT36H', 129_600_000], ['P1DT12H', 129_600_000], ['PT0.5S', 500], ['P2W', 1_209_600_000]])('%s is %d ms', (text, ms) => {
    expect(parseIsoDuration(text)?.as('milliseconds')).toBe(ms);
  });
});

describe('strict instants (--as-of)', () => {
  it.each(['2026-02-30', '2026-13-01', '2026-02-29', '2026-12-01T24:30', '2026-12-01 08:00', 'yesterday', '2026-12-01T08:00:00Zjunk'])('%s is refused', (text) => {
    expect(parseIsoInstant(text).ok).toBe(false);
  });
  it('without an offset it is read as UTC, and says so', () => {
    expect(parseIsoInstant('2026-12-01T08:00')).toEqual({ ok: true, instant: new Date('2026-12-01T08:00:00Z'), assumedUtc: true });
    expect(parseIsoInstant('2028-02-29')).toEqual({ ok: true, instant: new Date('2028-02-29T00:00:00Z'), assumedUtc: true });
    expect(parseIsoInstant('2026-12-01T09:00:00+01:00')).toEqual({ ok: true, instant: new Date('2026-12-01T08:00:00Z'), assumedUtc: false });
    expect(parseIsoInstant('2026-12-01T08:00:00Z')).toMatchObject({ assumedUtc: false });
  });
});
