import type { AlarmEvent } from '../alarmEvent.js';
import type { PurgeFinishedEvent } from '../purgeFinishedEvent.js';
import { describeSinkEvent, isAlarmEvent, type SinkEvent } from '../sinkEvent.js';

const FACILITY_CODES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** RFC 5424 severities: crit 2, err 3, warning 4, notice 5 (a clear), info 6 (a test). */
function severityCode(e: AlarmEvent): number {
  if (e.event === 'cleared') return 5;
  if (e.event === 'test') return 6;
  return e.severity === 'critical' ? 2 : e.severity === 'error' ? 3 : 4;
}

/** The private enterprise number 32473 is reserved for examples (RFC 5612); SD-IDs with "@" are ours to define. */
export const SD_ID = 'mftAlarm@32473';

/**
 * PARAM-VALUE escaping (RFC 5424 6.3.3): '"', '\' and ']' get a backslash. Control characters
 * become spaces: a newline would split the message in most receivers' files.
 */
const sdValue = (v: string): string => v.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/[\\"\]]/g, (c) => `\\${c}`);

/** HOSTNAME, APP-NAME, MSGID: printable US-ASCII, no spaces, bounded length; "-" when empty. */
const header = (v: string, max: number): string => v.replace(/[^!-~]/g, '_').slice(0, max) || '-';

interface SyslogOptions {
  facility: string;
  appName: string;
  hostname: string;
  pid: number;
  now: Date;
}

export function formatRfc5424(e: SinkEvent, o: SyslogOptions): string {
  return isAlarmEvent(e) ? formatAlarm(e, o) : formatPurgeFinished(e, o);
}

/** SD-ID of the purge finished event; notice (5) for a purge that went through, warning (4) otherwise. */
export const PURGE_SD_ID = 'mftPurge@32473';

function formatPurgeFinished(e: PurgeFinishedEvent, o: SyslogOptions): string {
  const pri = (FACILITY_CODES[o.facility] ?? 3) * 8 + (e.status === 'ok' ? 5 : 4);
  const params: Array<[string, string]> = [
    ['event', e.event],
    ['node', e.node],
    ['status', e.status],
    ['files', String(e.files)],
    ['bytes', String(e.bytes)],
    ['rows', String(e.rows)],
    ['failures', String(e.failures)],
    ['startedAt', e.startedAt],
    ['finishedAt', e.finishedAt],
    ['id', e.id],
  ];
  const sd = `[${PURGE_SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  const perChatType = e.chatTypes.map((c) => `${c.chatType}: ${c.files} files${c.refused ? ' (refused)' : ''}`).join(', ');
  const msg = `${describeSinkEvent(e)}${perChatType ? ` (${perChatType})` : ''}${e.error ? `: ${e.error}` : ''}`.replace(/[\r\n]+/g, ' ');
  return `<${pri}>1 ${o.now.toISOString()} ${header(o.hostname, 255)} ${header(o.appName, 48)} ${o.pid} MFTPurgeFinished ${sd} ${msg}`;
}

function formatAlarm(e: AlarmEvent, o: SyslogOptions): string {
  const pri = (FACILITY_CODES[o.facility] ?? 3) * 8 + severityCode(e);
  const params: Array<[string, string]> = [
    ['event', e.event],
    ['alarm', e.alarm],
    ['severity', e.severity],
    ['node', e.node],
    ...(e.chatType ? ([['chatType', e.chatType]] as Array<[string, string]>) : []),
    ['value', e.value],
    ['threshold', e.threshold],
    ['raisedAt', e.raisedAt],
    ...(e.clearedAt ? ([['clearedAt', e.clearedAt]] as Array<[string, string]>) : []),
    ['alarmId', e.alarmId],
    ['id', e.id],
  ];
  const sd = `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  const scope = e.chatType ? `${e.node}/${e.chatType}` : e.node;
  const msg = `${e.alarm} ${e.event} on ${scope}: ${e.value}. ${e.event === 'raised' ? e.solution : e.problem}`.replace(/[\r\n]+/g, ' ');
  return `<${pri}>1 ${o.now.toISOString()} ${header(o.hostname, 255)} ${header(o.appName, 48)} ${o.pid} ${header(e.alarm, 32)} ${sd} ${msg}`;
}
