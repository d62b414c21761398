// Prometheus's promtool (Debian package "prometheus"; scripts/install-test-deps.sh installs it).
// Only the offline checks are used: no Prometheus server is started.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/promtool', '/usr/local/bin/promtool'];

export function promtoolPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`promtool not found (looked in ${CANDIDATES.join(', ')}): run \`bash scripts/install-test-deps.sh\` as root (it installs Debian's "prometheus" package, without starting it)`);
  return found;
}

export interface PromtoolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for assertion messages. */
  output: string;
}

export function promtool(args: string[], input?: string): PromtoolResult {
  const r = spawnSync(promtoolPath(), args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `promtool ${args.join(' ')} (exit ${r.status})\n${r.stdout}${r.stderr}` };
}
