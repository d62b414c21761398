import type { z } from 'zod';
import { renderValue, type ConfigProblem } from './configError.js';
import type { YamlFile } from './yamlFile.js';
import { keysAt } from './schemaKeys.js';
import { nearest } from '../core/nearest.js';
import type { IssueDetail } from './schemaIssues.js';

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

const TYPE_WORDS: Record<string, string> = {
  string: 'a text value',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping of keys to values',
  array: 'a list',
};

/** What was expected, in the tool's words rather than the validator's ("Invalid input: expected string, ..."). */
function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_WORDS[issue.expected] ?? issue.expected;
    case 'invalid_value':
      return issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string' ? 'a non-empty text value' : issue.origin === 'array' ? `a list of at least ${issue.minimum} item(s)` : `a number of at least ${issue.minimum}${issue.inclusive === false ? ' (exclusive)' : ''}`;
    case 'too_big':
      return issue.origin === 'array' ? `a list of at most ${issue.maximum} item(s)` : issue.origin === 'string' ? `a text of at most ${issue.maximum} characters` : `a number of at most ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into problems that name the file, line, key, value and what was expected. */
export function problemsFromZod(yaml: YamlFile, error: z.ZodError, schema: z.ZodType): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      const full = keys.map((k) => formatKey([...path, k]));
      const supported = keysAt(schema, path, yaml.data);
      const guesses = keys.map((k) => nearest(k, supported)).filter((g): g is string => g !== undefined);
      return {
        file: yaml.file,
        key: full.join(', '),
        line: yaml.lineOf([...(path as Array<string | number>), keys[0]!]),
        value: 'an unknown key',
        expected: supported.length ? `one of: ${supported.join(', ')}` : 'only documented keys',
        fix: guesses.length
          ? `did you mean ${guesses.map((g) => `"${g}"`).join(', ')}? Correct the spelling (unknown keys are never ignored)`
          : 'remove the key or correct its spelling (unknown keys are never ignored)',
      };
    }
    const value = valueAt(yaml.data, path);
    const key = formatKey(path);
    const secret = path.some((p) => typeof p === 'string' && SECRET_KEY.test(p) && !/File|Env|Credential$/.test(p));
    // A cross-field rule (schemaIssues.ts) may say how to show the value and how to fix it.
    const detail: IssueDetail = issue.code === 'custom' ? (issue.params ?? {}) : {};
    const missing = issue.code === 'custom' ? 'nothing' : 'nothing (the key is missing)';
    const shown = value === undefined ? missing : secret ? '(hidden)' : renderValue(value);
    const fix = detail.fix ?? (value === undefined ? `add the key ${key}` : undefined);
    return {
      file: yaml.file,
      key,
      line: yaml.lineOf(path as Array<string | number>),
      value: detail.value ?? shown,
      expected: expectedOf(issue),
      ...(fix ? { fix } : {}),
    };
  });
}
