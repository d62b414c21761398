// A private rsyslogd (Debian rsyslog) for alarm tests: in the foreground with its own
// config, work dir and pid file, listening with imudp and imtcp on free ports of
// 127.0.0.1 only. No system sockets: imuxsock (/dev/log) and imklog are not loaded, so the
// machine's own logging is neither read nor disturbed.
//
// Every message is written twice: as RFC 5424 text (RSYSLOG_SyslogProtocol23Format, the
// structured data as received) and as one JSON object per line with the header fields as
// rsyslog's RFC 5424 parser understood them and the structured data as rsyslog's
// mmpstrucdata module parsed it (escapes undone). A message a real syslog server cannot
// parse shows up there as such.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, killQuietly, run, ServerProcess, sleep, waitForPidExit, type StartOutcome } from './procUtil.js';

export const RSYSLOGD_PATH = '/usr/sbin/rsyslogd';

/** One received message, as rsyslog parsed it. */
export interface SyslogRecord {
  /** The input it came through. */
  input: 'imudp' | 'imtcp' | string;
  pri: number;
  /** rsyslog's names: "crit", "err", "warning", "notice", "info"... */
  severity: string;
  facility: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** The STRUCTURED-DATA field as received (escaped). */
  structuredData: string;
  /** The structured data as mmpstrucdata parsed it: SD-ID -> param name -> value (unescaped). */
  sd: Record<string, Record<string, string>>;
  msg: string;
  /** The message as received (for TCP: without the octet-counting frame). */
  raw: string;
}

export interface RsyslogServer {
  host: '127.0.0.1';
  udpPort: number;
  tcpPort: number;
  /** Output lines in RSYSLOG_SyslogProtocol23Format, oldest first (all starts). */
  lines(): string[];
  /** Parsed messages, oldest first (all starts); the harness's own readiness probes left out. */
  records(): SyslogRecord[];
  /** Polls until a record matches; throws with what was received. */
  waitForRecord(pred: (r: SyslogRecord) => boolean, timeoutMs?: number): Promise<SyslogRecord>;
  /** Polls until a protocol-23 line matches; throws with what was received. */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM rsyslogd (what it received stays in the output files). Restartable with start(). */
  stop(): Promise<void>;
  /** (Re)start on the same ports and output files; no-op if running. */
  start(): Promise<void>;
  isRunning(): boolean;
  /** stop() and remove the temp dir. Final. */
  destroy(): Promise<void>;
  /** rsyslogd's stderr so far (all starts). */
  log(): string;
  dir: string;
}

/** MSGID of the readiness probes the harness sends itself. */
const PROBE_MSGID = 'harness-ready-probe';

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function configText(dir: string, udpPort: number, tcpPort: number, linesFile: string, jsonFile: string): string {
  const prop = (out: string, name: string): string => `  property(outname="${out}" name="${name}" format="jsonf")`;
  return [
    '# written by test/helpers/rsyslogServer.ts',
    `global(workDirectory="${join(dir, 'work')}" maxMessageSize="64k")`,
    // Network inputs only: no imuxsock (/dev/log), no imklog.
    'module(load="imudp")',
    'module(load="imtcp")',
    'module(load="mmpstrucdata")',
    `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
    `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
    'template(name="harnessJson" type="list" option.jsonf="on") {',
    prop('input', 'inputname'),
    prop('pri', 'pri'),
    prop('severity', 'syslogseverity-text'),
    prop('facility', 'syslogfacility-text'),
    prop('hostname', 'hostname'),
    prop('appname', 'app-name'),
    prop('procid', 'procid'),
    prop('msgid', 'msgid'),
    prop('structureddata', 'structured-data'),
    prop('sd', '$!rfc5424-sd'),
    prop('msg', 'msg'),
    prop('raw', 'rawmsg'),
    '}',
    // Parses STRUCTURED-DATA into $!rfc5424-sd, keeping the case of SD-IDs and names.
    'action(type="mmpstrucdata" sd_name.lowercase="off")',
    `action(type="omfile" file="${linesFile}" template="RSYSLOG_SyslogProtocol23Format")`,
    `action(type="omfile" file="${jsonFile}" template="harnessJson")`,
    '',
  ].join('\n');
}

interface JsonLine {
  input: string;
  pri: string;
  severity: string;
  facility: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  structureddata: string;
  sd: string;
  msg: string;
  raw: string;
}

function toRecord(line: string): SyslogRecord {
  const j = JSON.parse(line) as JsonLine;
  return {
    input: j.input,
    pri: Number(j.pri),
    severity: j.severity,
    facility: j.facility,
    hostname: j.hostname,
    appName: j.appname,
    procId: j.procid,
    msgId: j.msgid,
    structuredData: j.structureddata,
    // jsonf renders the parsed tree as a JSON string; empty when there was nothing to parse.
    sd: j.sd ? (JSON.parse(j.sd) as SyslogRecord['sd']) : {},
    msg: j.msg,
    raw: j.raw,
  };
}

function sendUdp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.send(Buffer.from(text), port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

function sendTcp(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(text);
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => socket.end(Buffer.concat([Buffer.from(`${data.length} `), data])));
    socket.once('close', () => resolve());
  });
}

export async function startRsyslog(): Promise<RsyslogServer> {
  if (!existsSync(RSYSLOGD_PATH)) {
    throw new Error(`${RSYSLOGD_PATH} not found (package rsyslog): run scripts/install-test-deps.sh (as root), or use \`npm test\`, which does it`);
  }
  const dir = mkdtempSync('/tmp/rsyslog-');
  mkdirSync(join(dir, 'work'));
  const cfgPath = join(dir, 'rsyslog.conf');
  const pidFile = join(dir, 'rsyslogd.pid');
  const linesFile = join(dir, 'messages.log');
  const jsonFile = join(dir, 'messages.jsonl');

  const daemon = new ServerProcess({ pidFile, dir, watchdogKills: true });

  let udpPort = 0;
  let tcpPort = 0;

  const readText = (file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  // rsyslogd may be halfway through writing a line when the file is read: only lines that
  // already end in a newline are whole.
  const wholeLines = (file: string): string[] => readText(file).split('\n').slice(0, -1);
  const allRecords = (): SyslogRecord[] =>
    wholeLines(jsonFile)
      .filter((l) => l.trim() !== '')
      .map(toRecord);
  const records = (): SyslogRecord[] => allRecords().filter((r) => r.msgId !== PROBE_MSGID);
  const lines = (): string[] => wholeLines(linesFile).filter((l) => l !== '' && !l.includes(` ${PROBE_MSGID} `));

  /** Both inputs are up when a probe sent through each has been written out. */
  const probe = async (proc: ChildProcess, logFrom: number, deadline: number): Promise<string | undefined> => {
    const token = randomUUID();
    const message = (via: string): string => `<14>1 ${new Date().toISOString()} harness harness - ${PROBE_MSGID} [probe@32473 token="${token}" via="${via}"] probe`;
    const seen = (via: string): boolean => allRecords().some((r) => r.msgId === PROBE_MSGID && r.sd['probe@32473']?.token === token && r.sd['probe@32473']?.via === via);
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) return `rsyslogd exited (code ${proc.exitCode}, signal ${proc.signalCode})`;
      if (/Address already in use|Could not create (tcp|udp) listener/i.test(daemon.log.slice(logFrom))) return 'address in use';
      // UDP gives no answer: send until one probe arrives. TCP: connection refused until listening.
      if (!seen('udp')) await sendUdp(udpPort, message('udp')).catch(() => undefined);
      if (!seen('tcp')) await sendTcp(tcpPort, message('tcp')).catch(() => undefined);
      await sleep(200);
      if (seen('udp') && seen('tcp')) return undefined;
    }
    return 'timeout: the readiness probes sent over UDP and TCP never reached the output file';
  };

  const spawnRsyslog = async (): Promise<StartOutcome> => {
    const check = await run(RSYSLOGD_PATH, ['-N1', '-f', cfgPath]);
    if (check.code !== 0) return { ok: false, output: `rsyslogd -N1 -f ${cfgPath} failed:\n${check.stdout}${check.stderr}\n--- config ---\n${readText(cfgPath)}` };
    const startLog = daemon.log.length;
    const proc = spawn(RSYSLOGD_PATH, ['-n', '-f', cfgPath, '-i', pidFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.adopt(proc);
    proc.on('error', (e) => {
      daemon.log += `\nspawn error: ${e.message}\n`;
    });
    proc.unref();
    (proc.stderr as unknown as { unref?: () => void }).unref?.();
    const failure = await probe(proc, startLog, Date.now() + 30_000);
    if (failure === undefined) return { ok: true };
    if (daemon.isRunning()) {
      killQuietly(proc.pid!, 'SIGKILL');
      await waitForPidExit(proc.pid!, 5_000);
    }
    return { ok: false, output: `${failure}\n${daemon.log.slice(startLog)}` };
  };

  try {
    await daemon.firstStart(
      async () => {
        udpPort = await freeUdpPort();
        tcpPort = await freePort();
        writeFileSync(cfgPath, configText(dir, udpPort, tcpPort, linesFile, jsonFile));
        return spawnRsyslog();
      },
      /address in use/i,
      (output, attempt) => `rsyslogd failed to start (udp ${udpPort}, tcp ${tcpPort}, attempt ${attempt}):\n${output}`,
    );
  } catch (e) {
    daemon.abandon();
    throw e;
  }

  const waitFor = async <T>(what: string, find: () => T | undefined, seen: () => string, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = find();
      if (hit !== undefined) return hit;
      if (Date.now() >= deadline) throw new Error(`no matching ${what} from rsyslogd within ${timeoutMs} ms; received:\n${seen() || '(nothing)'}\n--- rsyslogd stderr ---\n${daemon.log.slice(-4_000)}`);
      await sleep(100);
    }
  };

  return {
    host: '127.0.0.1',
    udpPort,
    tcpPort,
    dir,
    lines,
    records,
    waitForRecord: (pred, timeoutMs = 30_000) => waitFor('record', () => records().find(pred), () => readText(linesFile), timeoutMs),
    waitForLine: (pred, timeoutMs = 30_000) => waitFor('line', () => lines().find(pred), () => readText(linesFile), timeoutMs),
    stop: () => daemon.stop(),
    start: () => daemon.restart('RsyslogServer', spawnRsyslog, /address in use/i, 200, (last) => `rsyslogd restart on udp ${udpPort}, tcp ${tcpPort} failed:\n${last}`),
    isRunning: daemon.isRunning,
    destroy: () => daemon.destroy(),
    log: () => daemon.log,
  };
}
