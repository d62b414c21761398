import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { ConfigError, type ConfigProblem } from './configError.js';

export interface YamlFile {
  file: string;
  data: unknown;
  /** 1-based line of the value at a key path, when it can be found. */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

/**
 * Reads a YAML file strictly: syntax errors and duplicate keys are errors with their line
 * (a duplicate key silently overriding another is how retention tools delete everything).
 */
export async function readYamlFile(file: string): Promise<YamlFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file,
        key: '',
        expected: 'a readable YAML file',
        value: code ?? String(err),
        fix: code === 'ENOENT' ? 'check the path given with --config or policiesDirectory' : 'check the file permissions',
      },
    ]);
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((e) => {
      const line = e.pos ? lineCounter.linePos(e.pos[0]).line : undefined;
      if (e.code === 'DUPLICATE_KEY') {
        // yaml points at the repeated key itself: name it, the admin searches for it.
        const key = e.pos ? (/^\s*["']?([^:"'\n]+)/.exec(text.slice(e.pos[0]))?.[1]?.trim() ?? '') : '';
        return { file, key, line, value: 'the key a second time', expected: 'each key once', fix: 'remove or merge the repeated key (a repeated key silently replaced the first in other tools)' };
      }
      return { file, key: '', line, value: e.message.split('\n')[0], expected: 'valid YAML', fix: 'correct the YAML syntax at that line' };
    });
    throw new ConfigError(problems);
  }
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
    lineOf: (path) => lineOfPath(doc, lineCounter, path),
  };
}

function lineOfPath(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>): number | undefined {
  // The line of the key itself when the path ends in a map key: its value may start below it.
  const parent = path.length ? doc.getIn(path.slice(0, -1), true) : undefined;
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    if (pair && isNode(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
  }
  // Otherwise walk up the path until a node with a source range is found.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
