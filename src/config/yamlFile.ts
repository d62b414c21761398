import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isNode, isScalar, visit, type Document } from 'yaml';
import { ConfigError, type ConfigProblem } from './configError.js';

/** Largest config or policy file read (bytes). */
export const MAX_YAML_BYTES = 256 * 1024;
/** yaml's bound on alias expansion (its `maxAliasCount`). */
const MAX_ALIASES = 100;

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
    // A config is a few kilobytes: a huge file is a mistake (or an attack), refused before it is read.
    const { size } = await stat(file);
    if (size > MAX_YAML_BYTES) {
      throw new ConfigError([{ file, key: '', value: `${size} bytes`, expected: `a configuration file of at most ${MAX_YAML_BYTES} bytes (256 KiB)`, fix: 'check that --config names the right file' }]);
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
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
  // yaml's own uniqueKeys check compares every key with every other (20,000 keys: 30 s); the
  // duplicates are found below with one set per map instead.
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const line = e.pos ? lineCounter.linePos(e.pos[0]).line : undefined;
        return { file, key: '', line, value: e.message.split('\n')[0], expected: 'valid YAML', fix: 'correct the YAML syntax at that line' };
      }),
    );
  }
  const duplicates: ConfigProblem[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!seen.has(key)) {
          seen.add(key);
          continue;
        }
        const line = isNode(pair.key) && pair.key.range ? lineCounter.linePos(pair.key.range[0]).line : undefined;
        duplicates.push({ file, key: String(key), line, value: 'the key a second time', expected: 'each key once', fix: 'remove or merge the repeated key (a repeated key silently replaced the first in other tools)' });
      }
    },
  });
  if (duplicates.length > 0) throw new ConfigError(duplicates);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // yaml refuses an alias expanded too often ("billion laughs"): a config never needs that.
    throw new ConfigError([{ file, key: '', value: (err as Error).message, expected: `YAML whose aliases (*name) expand at most ${MAX_ALIASES} times`, fix: 'write the repeated values out, or use fewer aliases' }]);
  }
  return {
    file,
    data,
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
