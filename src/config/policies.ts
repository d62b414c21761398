import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChatType } from '../core/chatType.js';
import { ConfigError, renderValue, type ConfigProblem } from './configError.js';
import { HOLDS_FILE } from './holds.js';
import { policyFileSchema, type PolicyRule } from './policySchema.js';
import { readYamlFile } from './yamlFile.js';
import { problemsFromZod } from './zodProblems.js';

/** A chat type's policy, with where it came from. */
export interface RetentionPolicy extends PolicyRule {
  chatType: ChatType;
  /** The file (or node override) it came from. */
  source: string;
}

export type PolicySet = Partial<Record<ChatType, RetentionPolicy>>;

export function makePolicy(chatType: ChatType, rule: PolicyRule, source: string): RetentionPolicy {
  return { chatType, source, ...rule };
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
    const { chatType, rule } = parsed.data;
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
    policies[chatType] = makePolicy(chatType, rule, file);
  }
  return { policies, problems };
}
