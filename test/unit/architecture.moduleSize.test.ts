// Every module of src/ stays small enough to read in one sitting: a file over the limit fails
// here, named with its line count, so that it is split by what its parts do before it grows on.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Lines a module of src/ may have at most. */
const MAX_LINES = 350;

/** Lines of a file as `wc -l` counts them (a last line without its newline counts too). */
function lineCount(path: string): number {
  const text = readFileSync(path, 'utf8');
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Every TypeScript module of src/ (declaration files aside), relative to src/, with its line count. */
function modules(dir = SRC): Array<{ path: string; lines: number }> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) return [];
    return [{ path: relative(SRC, path), lines: lineCount(path) }];
  });
}

describe('the size of the modules of src/', () => {
  const all = modules();

  it('reads every module', () => {
    // A walk that found nothing would pass the rule below.
    expect(all.length).toBeGreaterThan(50);
    expect(all.find((m) => m.path === 'cli/main.ts')?.lines).toBeGreaterThan(0);
  });

  it(`has no module over ${MAX_LINES} lines`, () => {
    const over = all
      .filter((m) => m.lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map((m) => `src/${m.path}: ${m.lines} lines (limit ${MAX_LINES}): split it by responsibility`);
    expect(over).toEqual([]);
  });
});
