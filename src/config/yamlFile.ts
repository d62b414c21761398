import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
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
    const problems: ConfigProblem[] = doc.errors.map((e) => ({
      file,
      key: '',
      line: e.pos ? lineCounter.linePos(e.pos[0]).line : undefined,
      expected: e.code === 'DUPLICATE_KEY' ? 'each key once' : 'valid YAML',
      value: e.message.split('\n')[0],
      fix: e.code === 'DUPLICATE_KEY' ? 'remove or merge the repeated key' : 'correct the YAML syntax at that line',
    }));
    throw new ConfigError(problems);
  }
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
    lineOf: (path) => lineOfPath(doc, lineCounter, path),
  };
}

function lineOfPath(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>): number | undefined {
  // Walk up the path until a node with a source range is found (unknown keys have none).
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
