import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Duration } from 'luxon';
import type { ChatType } from '../core/chatType.js';
import { ConfigError, renderValue, type ConfigProblem } from './configError.js';
import { parseIsoDuration } from './duration.js';
import { HOLDS_FILE } from './holds.js';
import { policyFileSchema, type PolicyOptions } from './schema.js';
import { readYamlFile } from './yamlFile.js';
import { problemsFromZod } from './zodProblems.js';

export interface RetentionPolicy {
  chatType: ChatType;
  /** `forever` never purges. */
  retention: Duration | 'forever';
  /** As written, for reports: `P7D`, `forever`. */
  retentionText: string;
  /** The file (or node override) it came from. */
  source: string;
  /** The policy may have a retention below purge.limits.minRetention. */
  allowShortRetention: boolean;
  /** A run may remove every file of the chat type. */
  allowPurgeAll: boolean;
  /** Keep a file until its last download is also older than this. */
  keepAfterLastDownload?: Duration;
  keepAfterLastDownloadText?: string;
}

export type PolicySet = Partial<Record<ChatType, RetentionPolicy>>;

export function makePolicy(chatType: ChatType, retentionText: string, source: string, options: PolicyOptions = {}): RetentionPolicy {
  const retention = retentionText === 'forever' ? 'forever' : parseIsoDuration(retentionText);
  if (!retention) throw new Error(`unvalidated retention ${retentionText}`);
  const afterDownload = options.keepAfterLastDownload ? parseIsoDuration(options.keepAfterLastDownload) : undefined;
  return {
    chatType,
    retention,
    retentionText,
    source,
    allowShortRetention: options.allowShortRetention ?? false,
    allowPurgeAll: options.allowPurgeAll ?? false,
    ...(afterDownload ? { keepAfterLastDownload: afterDownload, keepAfterLastDownloadText: options.keepAfterLastDownload } : {}),
  };
}

/**
 * Loads every `*.yaml`/`*.yml` in the policies directory. Each file holds one chat type's
 * policy; the file name must be `<chatType>.yaml` so that what an admin sees in `ls` is what
 * applies. A chat type with no file is never purged.
 */
export async function loadPolicies(dir: string): Promise<{ policies: PolicySet; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && n !== HOLDS_FILE).sort();
  } catch (err) {
    problems.push({
      file: dir,
      key: 'policiesDirectory',
      value: (err as NodeJS.ErrnoException).code ?? String(err),
      expected: 'a readable directory of policy files (im.yaml, groupchat.yaml, persistent.yaml)',
      fix: 'create it, or set policiesDirectory in the config file',
    });
    return { policies: {}, problems };
  }
  const policies: PolicySet = {};
  for (const name of names) {
    const file = path.join(dir, name);
    let yaml;
    try {
      yaml = await readYamlFile(file);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
      continue;
    }
    const parsed = policyFileSchema.safeParse(yaml.data ?? {});
    if (!parsed.success) {
      problems.push(...problemsFromZod(yaml, parsed.error, policyFileSchema));
      continue;
    }
    const { chatType, retention, ...options } = parsed.data;
    const base = name.replace(/\.ya?ml$/, '');
    if (base !== chatType) {
      problems.push({
        file,
        key: 'chatType',
        line: yaml.lineOf(['chatType']),
        value: renderValue(chatType),
        expected: `"${base}" to match the file name`,
        fix: `rename the file to ${chatType}.yaml or correct chatType`,
      });
      continue;
    }
    if (policies[chatType]) {
      problems.push({
        file,
        key: 'chatType',
        value: renderValue(chatType),
        expected: 'one policy file per chat type',
        fix: `keep only one of ${policies[chatType]!.source} and ${file}`,
      });
      continue;
    }
    policies[chatType] = makePolicy(chatType, retention, file, options);
  }
  return { policies, problems };
}
