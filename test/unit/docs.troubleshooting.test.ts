import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|json)$/.test(name) ? [p] : [];
  });
}

/** The first cell of each row of the "Messages of mft-retention" table, without its backticks. */
function quotedMessages(page: string): string[] {
  const section = page.split(/^## /m).find((s) => s.startsWith('Messages of mft-retention'));
  if (!section) throw new Error('docs/troubleshooting.md has no "Messages of mft-retention" section');
  return section
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .map((l) => /^\| `([^`]+)`/.exec(l)![1]!);
}

describe('docs/troubleshooting.md', () => {
  const page = readFileSync(path.join(ROOT, 'docs/troubleshooting.md'), 'utf8');
  const code = sources(path.join(ROOT, 'src'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');

  it('quotes messages the program still prints (a message reworded in the code fails here)', () => {
    const messages = quotedMessages(page);
    expect(messages.length).toBeGreaterThan(15);
    // A message with a value in it (a path, a count) is matched by its fixed part: the text
    // up to the first value, as the table quotes it.
    const missing = messages.filter((m) => !code.includes(m.replace(/\/etc\/mft-retention\/config\.yaml/, '${DEFAULT_CONFIG}')) && !code.includes(m));
    expect(missing).toEqual([]);
  });

  it('has a row for every exit code the program uses', () => {
    const exits = readFileSync(path.join(ROOT, 'src/cli/exitCodes.ts'), 'utf8');
    const codes = [...exits.matchAll(/:\s*(\d+),/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(5);
    for (const c of codes) expect(page, `exit code ${c}`).toMatch(new RegExp(`^\\| ${c} \\|`, 'm'));
  });
});
