// How many per-file lines Debian 12's journald keeps from one service: 100,000 lines of the
// purge's format, logged by the real logger as a unit's standard output in a booted systemd 252,
// with journald's default rate limit, with LogRateLimitIntervalSec=0 (which systemd does not pass
// on to journald) and with the units' LogRateLimitIntervalSec=30s + LogRateLimitBurst=10000000.
//
//   node dist/bench/journalKeeps.js [--lines 100000]
//
// Not part of `npm test`.
import { parseArgs } from 'node:util';
import { bindApp, APP_DIR } from '../test/helpers/mftInContainer.js';
import { bootSystemdContainer } from '../test/helpers/systemdContainer.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '100000' } } });
const LINES = Number(values.lines);

const SCRIPT = `
const { makeLogger, infoMany } = await import('${APP_DIR}/dist/src/logger.js');
const log = makeLogger({ level: 'info', fd: 1 }).child({ runId: 'bench', node: 'node_1', chatType: 'im' });
const t0 = performance.now();
for (let b = 0; b < ${LINES / 1000}; b++) {
  const rs = [];
  for (let i = 0; i < 1000; i++) rs.push({ path: '/opt/mftFileStore/node_1/files/im/20261121/03/f' + (b * 1000 + i) + '-5d41402abc4b2a76b9719d911017c592.dat', size: 123456, rows: 2, aftIndex: String(b * 1000 + i), alreadyMissing: false });
  infoMany(log, 'removed', rs);
  await new Promise((r) => setTimeout(r, 1));
}
await new Promise((r) => log.flush(r));
log.warn({ ms: Math.round(performance.now() - t0) }, 'done');
`;

const ct = await bootSystemdContainer({ binds: [bindApp()], name: 'mftb-keeps' });
try {
  await ct.writeFile('/usr/local/lib/log-lines.mjs', SCRIPT);
  const out: string[] = [];
  for (const [unit, props] of [
    ['lines-default-limit', []],
    ['lines-zero-interval', ['-p', 'LogRateLimitIntervalSec=0']],
    ['lines-units-burst', ['-p', 'LogRateLimitIntervalSec=30s', '-p', 'LogRateLimitBurst=10000000']],
  ] as const) {
    const r = await ct.exec(['systemd-run', '--quiet', '--wait', '--unit', unit, '-p', 'DynamicUser=yes', ...props, '/usr/bin/node', '/usr/local/lib/log-lines.mjs'], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`${unit}: exit ${r.code} ${r.stderr}\n${await ct.journal(`${unit}.service`)}`);
    const journal = await ct.journal(`${unit}.service`);
    const kept = journal.split('\n').filter((l) => l.includes('"msg":"removed"')).length;
    const done = journal.split('\n').find((l) => l.includes('"msg":"done"'));
    // Lines the logger itself dropped (its buffer full while journald fell behind), as it reported them.
    const dropped = journal.split('\n').filter((l) => l.includes('"droppedLines":')).reduce((a, l) => a + (JSON.parse(l) as { droppedLines: number }).droppedLines, 0);
    out.push(`${unit}: ${kept.toLocaleString('en-US')} of ${LINES.toLocaleString('en-US')} per-file lines kept, ${dropped.toLocaleString('en-US')} dropped by the logger and reported; logging took ${done ? JSON.parse(done).ms : '?'} ms`);
  }
  const suppressed = (await ct.exec(['/bin/sh', '-c', 'journalctl --no-pager -o cat _COMM=systemd-journal | grep -iE "suppress|rotat|vacuum" | tail -5'])).stdout.trim();
  const usage = (await ct.exec(['journalctl', '--disk-usage'])).stdout.trim();
  const fs = (await ct.exec(['/bin/sh', '-c', 'df -B1 --output=avail,size,target /var/log/journal | tail -1'])).stdout.trim();
  console.log([...out, `journald: ${suppressed || '(no suppression or rotation message)'}`, usage, `journal file system (avail, size, mount): ${fs}`].join('\n'));
} finally {
  await ct.stop();
}
