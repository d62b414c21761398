import path from 'node:path';
import type { ChatType } from '../core/chatType.js';
import { ConfigError } from './configError.js';
import { loadHolds } from './holds.js';
import { loadPolicies, makePolicy, type PolicySet } from './policies.js';
import type { ResolvedConfig } from './resolvedConfig.js';
import { configFileSchema, type ParsedNode } from './schema.js';
import { readYamlFile } from './yamlFile.js';
import { problemsFromZod } from './zodProblems.js';

/**
 * Reads the config file and the policy and holds files beside it, and returns the config in
 * force. Every problem found in any of them is reported at once, in one ConfigError. Secrets
 * are located, not read: they are read when a connection needs them.
 */
export async function loadConfig(configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const file = path.resolve(configFile);
  const yaml = await readYamlFile(file);
  const schema = configFileSchema(path.dirname(file));
  const parsed = schema.safeParse(yaml.data ?? {});
  // Report the policy files' problems too, so that one round of fixes is enough.
  const rawDir = (yaml.data as { policiesDirectory?: unknown } | null)?.policiesDirectory;
  const policiesDirectory = parsed.success ? parsed.data.policiesDirectory : path.resolve(path.dirname(file), typeof rawDir === 'string' ? rawDir : 'policies');
  const [policies, holds] = [await loadPolicies(policiesDirectory), await loadHolds(policiesDirectory)];
  const problems = [...(parsed.success ? [] : problemsFromZod(yaml, parsed.error, schema)), ...policies.problems, ...holds.problems];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);

  const config = parsed.data;
  return {
    file,
    ...config,
    daemon: {
      ...config.daemon,
      // systemd's StateDirectory= sets $STATE_DIRECTORY (colon-separated when there are several).
      stateDirectory: config.daemon.stateDirectory ?? env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/mft-retention',
    },
    nodes: config.nodes.map(({ policyOverrides, ...node }, i) => ({
      ...node,
      policies: withOverrides(policies.policies, policyOverrides, `${file} (nodes[${i}].policies.`),
      holds: holds.holds,
    })),
  };
}

type ParsedOverrides = ParsedNode['policyOverrides'];

/** The shared policies with a node's own on top, each naming where it came from. */
function withOverrides(shared: PolicySet, overrides: ParsedOverrides, sourcePrefix: string): PolicySet {
  const policies: PolicySet = { ...shared };
  for (const [chatType, rule] of Object.entries(overrides) as Array<[ChatType, ParsedOverrides[ChatType]]>) {
    if (rule) policies[chatType] = makePolicy(chatType, rule, `${sourcePrefix}${chatType})`);
  }
  return policies;
}
