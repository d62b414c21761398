import { access } from 'node:fs/promises';
import path from 'node:path';
import { bareJid, type Hold } from '../core/holds.js';
import { ConfigError, renderValue, type ConfigProblem } from './configError.js';
import { holdsFileSchema } from './schema.js';
import { readYamlFile } from './yamlFile.js';
import { problemsFromZod } from './zodProblems.js';

/** The holds file lives beside the policies, so one directory says what is kept and why. */
export const HOLDS_FILE = 'holds.yaml';

/**
 * When a hold's `expires` ends it. A date alone holds through that whole UTC day, to the next
 * day's 00:00: "expires: 2027-06-30" read as the day's first instant would free the files on
 * the very day the hold was written to cover, and a hold ended early cannot be taken back. A
 * date and time (with its offset) ends it at that instant.
 */
export function holdEnd(expires: string): Date {
  if (expires.length === 10) return new Date(Date.parse(`${expires}T00:00:00Z`) + 24 * 3600 * 1000);
  return new Date(expires);
}

/** Loads `holds.yaml` from the policies directory; no file means no holds. */
export async function loadHolds(policiesDirectory: string): Promise<{ holds: Hold[]; problems: ConfigProblem[] }> {
  const file = path.join(policiesDirectory, HOLDS_FILE);
  if (!(await access(file).then(() => true, () => false))) return { holds: [], problems: [] };
  let yaml;
  try {
    yaml = await readYamlFile(file);
  } catch (err) {
    if (err instanceof ConfigError) return { holds: [], problems: err.problems };
    throw err;
  }
  const parsed = holdsFileSchema.safeParse(yaml.data ?? {});
  if (!parsed.success) return { holds: [], problems: problemsFromZod(yaml, parsed.error, holdsFileSchema) };
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  const holds = parsed.data.holds.map((h, i): Hold => {
    const at = ['holds', i];
    if (names.has(h.name)) {
      problems.push({ file, key: `holds[${i}].name`, line: yaml.lineOf([...at, 'name']), value: renderValue(h.name), expected: 'a hold name used once' });
    }
    names.add(h.name);
    const hold: Hold = {
      name: h.name,
      reason: h.reason,
      expires: h.expires ? holdEnd(h.expires) : undefined,
      jids: (h.jids ?? []).map(bareJid),
      uploaders: (h.uploaders ?? []).map(bareJid),
      recipients: (h.recipients ?? []).map(bareJid),
      paths: h.paths ?? [],
      aftIndexes: (h.aftIndexes ?? []).map(String),
    };
    if (hold.jids.length + hold.uploaders.length + hold.recipients.length + hold.paths.length + hold.aftIndexes.length === 0) {
      problems.push({
        file,
        key: `holds[${i}]`,
        line: yaml.lineOf(at),
        value: renderValue(h.name),
        expected: 'at least one of jids, uploaders, recipients, paths, aftIndexes',
        fix: 'say what the hold covers; an empty hold would protect nothing',
      });
    }
    return hold;
  });
  return { holds, problems };
}
