import { describe, expect, it } from 'vitest';
import { testEvent, type AlarmEvent } from '../../src/alarms/alarmEvent.js';
import { formatRfc5424 } from '../../src/alarms/sinks/syslogFormat.js';
import { purgeFinishedEvent } from '../../src/alarms/purgeFinishedEvent.js';

const NOW = new Date('2026-03-01T10:00:00.123Z');
const base = testEvent(NOW, 'host-1');
const event = (o: Partial<AlarmEvent>): AlarmEvent => ({ ...base, ...o });
const opts = { facility: 'local3', appName: 'mft-retention', hostname: 'files host', pid: 4242, now: NOW };

// RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
const LINE = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*\]) (.*)$/;

describe('formatRfc5424', () => {
  it('writes the RFC 5424 header: PRI from facility and severity, ISO time, host, app, pid, alarm as MSGID', () => {
    const m = LINE.exec(formatRfc5424(event({ event: 'raised', alarm: 'XcpMFTDBFullError', severity: 'critical' }), opts))!;
    expect(m).not.toBeNull();
    expect(Number(m[1])).toBe(19 * 8 + 2); // local3, crit
    expect(m.slice(2, 7)).toEqual(['2026-03-01T10:00:00.123Z', 'files_host', 'mft-retention', '4242', 'XcpMFTDBFullError']);
  });

  it.each([
    ['raised', 'critical', 2],
    ['raised', 'error', 3],
    ['raised', 'warning', 4],
    ['cleared', 'critical', 5],
    ['test', 'info', 6],
  ] as const)('%s %s is syslog severity %i', (ev, severity, code) => {
    const m = LINE.exec(formatRfc5424(event({ event: ev, severity }), { ...opts, facility: 'daemon' }))!;
    expect(Number(m[1])).toBe(3 * 8 + code);
  });

  it('escapes ", \\ and ] in structured-data values and keeps the message on one line', () => {
    const line = formatRfc5424(event({ event: 'raised', node: 'n"1]\\x', value: 'a\nb' }), opts);
    expect(line).toContain('node="n\\"1\\]\\\\x"');
    expect(line).not.toMatch(/[\r\n]/);
    expect(line).toContain('[mftAlarm@32473 event="raised"');
  });

  it('writes a purge finished event with its own MSGID and structured data: notice when ok, warning otherwise', () => {
    const run = (status: 'ok' | 'partial') => purgeFinishedEvent({ node: 'imp-pub', status, startedAt: new Date(NOW.getTime() - 5000), finishedAt: NOW, chatTypes: [{ chatType: 'im', retention: 'P7D', files: 12, bytes: 3400, rows: 30, alreadyMissing: 0, kept: {}, failed: {}, rowsPending: 0, byDay: {}, failedTransfers: 0, foldersRemoved: 1, handled: 12 }] }, NOW, 'host-1');
    const m = LINE.exec(formatRfc5424(run('ok'), opts))!;
    expect(Number(m[1])).toBe(19 * 8 + 5);
    expect(m[6]).toBe('MFTPurgeFinished');
    expect(m[7]).toMatch(/^\[mftPurge@32473 event="purge-finished" node="imp-pub" status="ok" files="12" bytes="3400" rows="30" failures="0" /);
    expect(m[8]).toBe('purge of imp-pub finished: ok, 12 files, 3400 bytes, 30 rows, 0 failures in 5.0 s (im: 12 files)');
    expect(Number(LINE.exec(formatRfc5424(run('partial'), opts))![1])).toBe(19 * 8 + 4);
  });
});

