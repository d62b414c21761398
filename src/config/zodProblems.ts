import type { z } from 'zod';
import { renderValue, type ConfigProblem } from './configError.js';
import type { YamlFile } from './yamlFile.js';

function formatKey(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)), '');
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

const SECRET_KEY = /password|passphrase|privatekey|secret|token/i;

/** Turns zod issues into problems that name the file, line, key, value and what was expected. */
export function problemsFromZod(yaml: YamlFile, error: z.ZodError, knownKeysHint?: (path: ReadonlyArray<PropertyKey>) => string[]): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      const full = keys.map((k) => formatKey([...path, k]));
      const supported = knownKeysHint?.(path) ?? [];
      return {
        file: yaml.file,
        key: full.join(', '),
        line: yaml.lineOf([...(path as Array<string | number>), keys[0]!]),
        value: 'an unknown key',
        expected: supported.length ? `one of: ${supported.join(', ')}` : 'only documented keys',
        fix: 'remove the key or correct its spelling (unknown keys are never ignored)',
      };
    }
    const value = valueAt(yaml.data, path);
    const key = formatKey(path);
    const secret = path.some((p) => typeof p === 'string' && SECRET_KEY.test(p) && !/File|Env|Credential$/.test(p));
    return {
      file: yaml.file,
      key,
      line: yaml.lineOf(path as Array<string | number>),
      value: value === undefined ? 'nothing (the key is missing)' : secret ? '(hidden)' : renderValue(value),
      expected: issue.message,
    };
  });
}
