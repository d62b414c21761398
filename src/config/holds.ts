import { access } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { bareJid, type Hold } from '../core/holds.js';
import { ConfigError, renderValue, type ConfigProblem } from './configError.js';
import { reporter, type Report } from './schemaIssues.js';
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

const jidList = z.array(z.string().regex(/^[^\s@/]+@[^\s@/]+(\/.*)?$/, 'a JID such as alice@example.com')).optional();

const holdSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a hold name: letters, digits, "_", "." or "-"'),
  reason: z.string().optional(),
  expires: z.iso.date().or(z.iso.datetime({ offset: true })).optional(),
  jids: jidList,
  uploaders: jidList,
  recipients: jidList,
  paths: z.array(z.string().startsWith('/', 'an absolute path or path prefix ending in "/"')).optional(),
  aftIndexes: z.array(z.union([z.number().int(), z.string().regex(/^-?\d+$/)])).optional(),
});

/** A hold as the purge applies it; a hold that covers nothing, or a name used twice, is reported. */
function resolveHold(h: z.infer<typeof holdSchema>, i: number, names: Set<string>, report: Report): Hold {
  if (names.has(h.name)) report([i, 'name'], 'a hold name used once');
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
    report([i], 'at least one of jids, uploaders, recipients, paths, aftIndexes', { value: renderValue(h.name), fix: 'say what the hold covers; an empty hold would protect nothing' });
  }
  return hold;
}

/** The holds file: `holds:` and a list of holds. */
export const holdsFileSchema = z.strictObject({
  holds: z.array(holdSchema).transform((holds, ctx) => {
    const names = new Set<string>();
    return holds.map((h, i) => resolveHold(h, i, names, reporter(ctx)));
  }),
});

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
  return { holds: parsed.data.holds, problems: [] };
}
