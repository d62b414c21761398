// Vitest globalSetup: only checks that the programs the integration tests need exist.
// Never skips: a missing program is an error telling how to install it.
import { existsSync } from 'node:fs';
import { findPostgresBinDir } from './pgServer.js';
import { SSHD_PATH, SSH_KEYGEN_PATH } from './sshdServer.js';
import { ALERTMANAGER_PATH } from './alertmanagerServer.js';
import { RSYSLOGD_PATH } from './rsyslogServer.js';

const HINT = 'run scripts/install-test-deps.sh (as root), or use `npm test`, which does it';

export default function setup(): void {
  const missing: string[] = [];
  try {
    findPostgresBinDir();
  } catch {
    missing.push('PostgreSQL server binaries /usr/lib/postgresql/<version>/bin/{initdb,pg_ctl,postgres} (package postgresql)');
  }
  if (!existsSync(SSHD_PATH)) missing.push(`${SSHD_PATH} (package openssh-server)`);
  if (!existsSync(SSH_KEYGEN_PATH)) missing.push(`${SSH_KEYGEN_PATH} (package openssh-client)`);
  if (!existsSync(ALERTMANAGER_PATH)) missing.push(`${ALERTMANAGER_PATH} (package prometheus-alertmanager)`);
  if (!existsSync(RSYSLOGD_PATH)) missing.push(`${RSYSLOGD_PATH} (package rsyslog)`);
  if (!existsSync('/usr/bin/promtool')) missing.push('/usr/bin/promtool (package prometheus; only promtool is used, the server is never started)');
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    missing.push('runuser (package util-linux)');
  }
  if (missing.length > 0) {
    throw new Error(`Test prerequisites missing:\n  - ${missing.join('\n  - ')}\nFix: ${HINT}.`);
  }
}
