// The layering of src/ (docs/dev/architecture.md), checked on every import: the pure rules in
// core/ depend on nothing else, nothing but the commands in cli/ depends on cli/, and no
// module depends on itself through others. Imports are read with TypeScript's own scanner,
// so a comment or a string that looks like an import is not taken for one.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Packages the pure code may use: dates and hashing, nothing that does I/O. */
const CORE_PACKAGES = [/^luxon$/, /^node:crypto$/];

/** Every module of src/ (path relative to src/) with what it imports: modules of src/ by path, packages by name. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const { importedFiles } = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
        const imports = importedFiles.map(({ fileName: spec }) => (spec.startsWith('.') ? relative(SRC, resolve(dirname(path), spec.replace(/\.js$/, '.ts'))) : spec));
        graph.set(relative(SRC, path), imports);
      }
    }
  };
  walk(SRC);
  return graph;
}

const graph = importGraph();
const isModule = (spec: string): boolean => graph.has(spec);
const arrows = (keep: (from: string, to: string) => boolean): string[] =>
  [...graph].flatMap(([from, imports]) => imports.filter((to) => keep(from, to)).map((to) => `${from} -> ${to}`));

/** Import cycles among src/ modules (strongly connected components of more than one module, or a module importing itself). */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!.filter(isModule)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the layering of src/', () => {
  it('reads the imports of every module', () => {
    // A scanner that found nothing would pass every rule below.
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('cli/main.ts')!.filter(isModule).length).toBeGreaterThan(3);
    expect(graph.get('core/eligibility.ts')).toContain('core/filePath.ts');
  });

  it('core/ imports only core/ (and no package that does I/O)', () => {
    expect(arrows((from, to) => from.startsWith('core/') && (isModule(to) ? !to.startsWith('core/') : !CORE_PACKAGES.some((p) => p.test(to))))).toEqual([]);
  });

  it('shared/ imports only shared/', () => {
    expect(arrows((from, to) => from.startsWith('shared/') && isModule(to) && !to.startsWith('shared/'))).toEqual([]);
  });

  it('nothing outside cli/ imports cli/', () => {
    expect(arrows((from, to) => !from.startsWith('cli/') && to.startsWith('cli/'))).toEqual([]);
  });

  it('config/ and adapters/ never import the code that uses them', () => {
    const users = /^(purge|alarms|reconcile|doctor|daemon|demo|cli)\//;
    expect(arrows((from, to) => /^(config|adapters)\//.test(from) && users.test(to))).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles()).toEqual([]);
  });
});
