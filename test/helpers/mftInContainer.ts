// Installs mft-retention in a booted systemd container (systemdContainer.ts) the way an admin
// does, in the installed layout: the application in /usr/lib/mft-retention (this checkout's
// built tree, bound read-only: bindApp()), the command /usr/bin/mft-retention, the service user,
// /etc/mft-retention/ with config.yaml, policies/ and the secrets the units hand over with
// LoadCredential=, and the shipped unit files in /etc/systemd/system. The app runs on the
// host's /usr/bin/node (bound in by the container helper).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKOUT, type Bind, type SystemdContainer } from './systemdContainer.js';
import type { NodeFixture } from './daemonHarness.js';

export const APP_DIR = '/usr/lib/mft-retention';
export const ETC = '/etc/mft-retention';
export const CONFIG = `${ETC}/config.yaml`;
export const SERVICE_USER = 'mft-retention';

/** The bind that puts this checkout (dist/, bin/, node_modules/) where the package installs it. */
export function bindApp(): Bind {
  return { src: CHECKOUT, dst: APP_DIR };
}

/** A shipped unit file's text (systemd/NAME). */
export function shippedUnit(name: string): string {
  return readFileSync(join(CHECKOUT, 'systemd', name), 'utf8');
}

export interface NodeEntry {
  fixture: NodeFixture;
  /** Extra keys of the node entry (auditExport, limits...), merged in. */
  extra?: Record<string, unknown>;
  /** Replaces the fileServer section (e.g. type: local). */
  fileServer?: Record<string, unknown>;
}

export interface ConfigSpec {
  nodes: NodeEntry[];
  httpPort?: number;
  schedule?: string;
  policies?: Record<string, string>;
  purge?: Record<string, unknown>;
  logLevel?: string;
}

/** config.yaml for the installed layout: secrets by credential name, as in examples/config.yaml. */
export function configYaml(spec: ConfigSpec): string {
  const config = {
    policiesDirectory: 'policies',
    purge: { batchSize: 1000, ...spec.purge },
    log: { level: spec.logLevel ?? 'info' },
    daemon: { schedule: spec.schedule ?? '*/2 * * * * *', drainTimeout: 'PT20S', http: { listen: `127.0.0.1:${spec.httpPort ?? 9464}` } },
    nodes: spec.nodes.map(({ fixture: n, extra, fileServer }) => ({
      name: n.name,
      database: { type: 'postgres', host: n.pg.tcpHost, port: n.pg.port, database: n.dbName, user: 'mft', passwordCredential: `db-${n.name}` },
      fileServer: fileServer ?? {
        type: 'sftp',
        host: n.sshd.host,
        port: n.sshd.port,
        username: n.sshd.username,
        privateKeyCredential: 'ssh-key',
        hostKey: n.sshd.hostKeyFingerprint,
        directory: n.directory,
      },
      ...extra,
    })),
  };
  // JSON is YAML.
  return JSON.stringify(config, null, 2) + '\n';
}

export async function writePolicies(ct: SystemdContainer, policies: Record<string, string> = { im: 'P1D', groupchat: 'P1D', persistent: 'forever' }): Promise<void> {
  for (const [chatType, retention] of Object.entries(policies)) {
    // The fixtures seed only expired files: emptying a chat type is meant here.
    await ct.writeFile(`${ETC}/policies/${chatType}.yaml`, `chatType: ${chatType}\nretention: ${retention}\nallowPurgeAll: true\n`, { mode: 0o640, owner: `root:${SERVICE_USER}` });
  }
}

export async function writeConfig(ct: SystemdContainer, spec: ConfigSpec): Promise<void> {
  await ct.writeFile(CONFIG, configYaml(spec), { mode: 0o640, owner: `root:${SERVICE_USER}` });
}

/**
 * The admin's steps: the command, the user, /etc/mft-retention (config, policies, the key and
 * the database passwords, root-only: systemd reads them for LoadCredential=), the units.
 * Each node's password credential is `db-<node>`; the units' LoadCredential= lines are edited to
 * match, as the README tells.
 */
export async function installMftRetention(ct: SystemdContainer, spec: ConfigSpec & { sshKey: string; dbPassword: string; unitDir?: string }): Promise<void> {
  await ct.writeFile('/usr/bin/mft-retention', `#!/bin/sh\nexec /usr/bin/node ${APP_DIR}/bin/mft-retention.js "$@"\n`, { mode: 0o755 });
  await ct.execOk(['useradd', '--system', '--home', '/var/lib/mft-retention', '--shell', '/usr/sbin/nologin', SERVICE_USER]);
  await ct.execOk(['install', '-d', '-m', '0750', '-o', 'root', '-g', SERVICE_USER, ETC]);
  await writePolicies(ct, spec.policies);
  await writeConfig(ct, spec);
  await ct.writeFile(`${ETC}/id_ed25519`, spec.sshKey, { mode: 0o600 });
  for (const { fixture } of spec.nodes) await ct.writeFile(`${ETC}/db-${fixture.name}.password`, spec.dbPassword, { mode: 0o600 });
  const unitDir = spec.unitDir ?? '/etc/systemd/system';
  const credentials = ['LoadCredential=ssh-key:/etc/mft-retention/id_ed25519', ...spec.nodes.map(({ fixture: n }) => `LoadCredential=db-${n.name}:/etc/mft-retention/db-${n.name}.password`)].join('\n');
  for (const unit of ['mft-retention.service', 'mft-retention-purge.service', 'mft-retention-purge.timer']) {
    const text = shippedUnit(unit).replace(/^LoadCredential=.*\n(LoadCredential=.*\n)*/m, `${credentials}\n`);
    await ct.writeFile(`${unitDir}/${unit}`, text);
  }
  await ct.systemctlOk('daemon-reload');
}

/** A drop-in for UNIT (override.conf), then daemon-reload. Empty text removes it. */
export async function dropIn(ct: SystemdContainer, unit: string, text: string, name = 'override'): Promise<void> {
  const path = `/etc/systemd/system/${unit}.d/${name}.conf`;
  if (text) await ct.writeFile(path, text);
  else await ct.execOk(['rm', '-f', path]);
  await ct.systemctlOk('daemon-reload');
}
