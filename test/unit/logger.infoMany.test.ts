import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const loggerModule = fileURLToPath(new URL('../../src/logger.ts', import.meta.url));

/**
 * Runs a script in a child process, where the logger writes to file descriptor 1, and returns
 * the lines it wrote. The script loads the compiled logger from dist/ (`npm test` builds first).
 */
function runLogging(body: string): string[] {
  const script = `
    const { makeLogger, infoMany } = await import(${JSON.stringify(loggerModule.replace(/\/src\/logger\.ts$/, '/dist/src/logger.js'))});
    ${body}
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

const records = [
  { path: '/srv/mft/files/im/20261101/08/a "quoted" name.png', size: 1000, rows: 2, aftIndex: '17', alreadyMissing: false },
  { path: '/srv/mft/files/im/20261101/08/Überprüfung\\n報告\u2028.pdf', size: 0, rows: 1, aftIndex: '18', alreadyMissing: true },
];

describe('infoMany', () => {
  it('writes exactly the lines log.info would, but for the time', () => {
    const lines = runLogging(`
      const log = makeLogger({ level: 'info', fd: 1, pretty: false }).child({ node: 'node_1' }).child({ chatType: 'im' });
      const records = ${JSON.stringify(records)};
      for (const r of records) log.info(r, 'removed');
      infoMany(log, 'removed', records);
    `);
    expect(lines).toHaveLength(4);
    const withoutTime = (l: string): string => l.replace(/"time":\d+,/, '"time":0,');
    expect(withoutTime(lines[2]!)).toBe(withoutTime(lines[0]!));
    expect(withoutTime(lines[3]!)).toBe(withoutTime(lines[1]!));
    expect(JSON.parse(lines[3]!)).toMatchObject({ level: 30, service: 'mft-retention', node: 'node_1', chatType: 'im', msg: 'removed', ...records[1] });
  });

  it('writes nothing when the level is above info', () => {
    const lines = runLogging(`
      const log = makeLogger({ level: 'warn', fd: 1, pretty: false });
      infoMany(log, 'removed', ${JSON.stringify(records)});
      log.warn('only this');
    `);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['only this']);
  });

  it('goes through log.info, one call a record, for a logger it did not make (a test sink, pretty output)', async () => {
    const { default: pino } = await import('pino');
    const { infoMany } = await import('../../src/logger.js');
    const writes: string[] = [];
    const log = pino({ level: 'info', base: undefined }, { write: (s: string) => void writes.push(s) });
    infoMany(log, 'removed', records);
    expect(writes).toHaveLength(2);
    expect(writes.map((w) => JSON.parse(w).path)).toEqual(records.map((r) => r.path));
  });
});
