import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { UsageError } from './io.js';

/** Node names given on the command line must all be configured: a stray one is never ignored. */
export function assertKnownNodes(config: ResolvedConfig, nodes: string[] | undefined): void {
  const unknown = nodes?.filter((n) => !config.nodes.some((c) => c.name === n)) ?? [];
  if (unknown.length) {
    throw new UsageError(`node ${unknown.map((n) => `"${n}"`).join(', ')} is not in ${config.file}; configured nodes: ${config.nodes.map((n) => n.name).join(', ')}`);
  }
}
