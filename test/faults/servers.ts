// The real servers a test file of the fault suite (and the tests built on its World) runs on: a
// PostgreSQL and an OpenSSH sshd of test/helpers, started before the file's first test and
// destroyed after its last.
import { beforeAll } from 'vitest';
import { startedForFile } from '../helpers/fileHooks.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';
import { startSshd, type SshdServer, type StartSshdOptions } from '../helpers/sshdServer.js';
import { serverVersions } from './world.js';

export interface FaultServers {
  readonly pg: PgServer;
  readonly sshd: SshdServer;
}

export interface FaultServersOptions {
  /** The sshd's options (e.g. its login user). */
  sshd?: StartSshdOptions;
  /** Told each server's version once they are up: the results record's `server` (faultRecorder). */
  server?: (name: string, version: string) => void;
}

/**
 * Registers the beforeAll that starts the servers and the afterAll that destroys them, and
 * returns them. Read them inside the tests and later hooks: before the servers are up (or when
 * they failed to start) reading one throws.
 */
export function useFaultServers(opts: FaultServersOptions = {}): FaultServers {
  const servers = startedForFile(
    'the fault servers (useFaultServers)',
    async () => {
      const [pg, sshd] = await Promise.all([startPostgres(), startSshd(opts.sshd)]);
      return { pg, sshd };
    },
    (s) => Promise.all([s.pg.destroy(), s.sshd.destroy()]),
  );
  if (opts.server) {
    const record = opts.server;
    beforeAll(async () => {
      for (const [k, v] of Object.entries(await serverVersions(servers()))) record(k, v);
    });
  }
  return {
    get pg() {
      return servers().pg;
    },
    get sshd() {
      return servers().sshd;
    },
  };
}
