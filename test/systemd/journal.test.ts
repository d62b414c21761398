// journald keeps every per-file line of a service with the units' LogRateLimit settings, in a
// booted systemd 252: the lines of the real logger, more than journald's default rate limit lets
// through. The old setting, LogRateLimitIntervalSec=0, is the control: systemd does not pass a
// zero on to journald, which then drops what is over its default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, bindApp, shippedUnit } from '../helpers/mftInContainer.js';
import { bootSystemdContainer, SYSTEMD_BOOT_TIMEOUT_MS, type SystemdContainer } from '../helpers/systemdContainer.js';

// Above journald's default for any disk (10,000 per 30 s, times at most 5.5 with 256 GiB free).
const LINES = 60_000;
const SCRIPT = `
const { makeLogger, infoMany } = await import('${APP_DIR}/dist/src/logger.js');
const log = makeLogger({ level: 'info', fd: 1 }).child({ runId: 'test', node: 'node_1', chatType: 'im' });
for (let b = 0; b < ${LINES / 1000}; b++) {
  const rs = [];
  for (let i = 0; i < 1000; i++) rs.push({ path: '/opt/mftFileStore/node_1/files/im/20261121/03/f' + (b * 1000 + i) + '.dat', size: 1, rows: 2, aftIndex: String(b * 1000 + i), alreadyMissing: false });
  infoMany(log, 'removed', rs);
  await new Promise((r) => setTimeout(r, 1));
}
log.warn('done');
`;

describe('journald and the per-file lines', () => {
  let ct: SystemdContainer;

  beforeAll(async () => {
    ct = await bootSystemdContainer({ binds: [bindApp()], name: 'mftt-journal' });
    await ct.writeFile('/usr/local/lib/log-lines.mjs', SCRIPT);
  }, SYSTEMD_BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await ct?.stop();
  });

  const keptWith = async (unit: string, props: string[]): Promise<number> => {
    const r = await ct.exec(['systemd-run', '--quiet', '--wait', '--unit', unit, '-p', 'DynamicUser=yes', ...props.flatMap((p) => ['-p', p]), '/usr/bin/node', '/usr/local/lib/log-lines.mjs'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const journal = await ct.journal(`${unit}.service`);
    expect(journal).toContain('"msg":"done"');
    return journal.split('\n').filter((l) => l.includes('"msg":"removed"')).length;
  };

  it("keeps every line with the units' LogRateLimit settings, and drops some with LogRateLimitIntervalSec=0", async () => {
    const settingsOf = (unit: string): string[] => shippedUnit(unit).split('\n').filter((l) => l.startsWith('LogRateLimit'));
    const settings = settingsOf('mft-retention-purge.service');
    expect(settings.length).toBeGreaterThan(0);
    expect(settingsOf('mft-retention.service')).toEqual(settings);
    expect(await keptWith('units-settings-lines', settings)).toBe(LINES);
    expect(await keptWith('zero-interval-lines', ['LogRateLimitIntervalSec=0'])).toBeLessThan(LINES);
  });
});
