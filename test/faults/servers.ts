// The real servers a test file of the fault suite (and the tests built on its World) runs on: a
// PostgreSQL and an OpenSSH sshd of test/helpers, started before the file's first test and
// destroyed after its last.
import { afterAll, beforeAll } from 'vitest';
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
 * returns them. Read them inside the tests and hooks: before the servers are up (or when they
 * failed to start) reading one throws.
 */
export function useFaultServers(opts: FaultServersOptions = {}): FaultServers {
  let started: { pg: PgServer; sshd: SshdServer } | undefined;
  beforeAll(async () => {
    const [pg, sshd] = await Promise.all([startPostgres(), startSshd(opts.sshd)]);
    started = { pg, sshd };
    if (opts.server) for (const [k, v] of Object.entries(await serverVersions(started))) opts.server(k, v);
  });
  afterAll(async () => {
    await Promise.all([started?.pg.destroy(), started?.sshd.destroy()]);
  });
  const up = (): { pg: PgServer; sshd: SshdServer } => {
    if (!started) throw new Error('the fault servers are not running: useFaultServers() starts them in its beforeAll; read them inside a test or a later hook');
    return started;
  };
  return {
    get pg() {
      return up().pg;
    },
    get sshd() {
      return up().sshd;
    },
  };
}
