import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { SinkEvent } from '../sinkEvent.js';
import type { AlarmSink } from './sink.js';
import { formatRfc5424 } from './syslogFormat.js';

interface SyslogConfig {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  facility: string;
  appName: string;
  timeoutMs: number;
  purgeFinished?: boolean;
}

/**
 * Syslog, RFC 5424 with structured data. TCP uses octet-counting framing (RFC 6587), so a
 * message may contain anything; UDP sends one datagram per message and, as UDP goes, cannot
 * know whether it arrived: prefer TCP where the alarm must not be lost.
 */
export class SyslogSink implements AlarmSink {
  readonly type = 'syslog';
  readonly wantsRefresh = false;

  constructor(
    readonly name: string,
    private readonly cfg: SyslogConfig,
  ) {}

  get purgeFinished(): boolean {
    return this.cfg.purgeFinished ?? false;
  }

  deliver(event: SinkEvent): Promise<void> {
    const line = formatRfc5424(event, { facility: this.cfg.facility, appName: this.cfg.appName, hostname: hostname(), pid: process.pid, now: new Date() });
    const data = Buffer.from(line, 'utf8');
    return this.cfg.protocol === 'tcp' ? this.sendTcp(data) : this.sendUdp(data);
  }

  private sendUdp(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const family = this.cfg.host.includes(':') ? 'udp6' : 'udp4';
      const socket = createSocket(family);
      const timer = setTimeout(() => finish(new Error(`syslog ${this.cfg.host}:${this.cfg.port}/udp: no send within ${this.cfg.timeoutMs} ms`)), this.cfg.timeoutMs);
      const finish = (err?: Error | null): void => {
        clearTimeout(timer);
        socket.close();
        if (err) reject(new Error(`syslog ${this.cfg.host}:${this.cfg.port}/udp: ${err.message}`, { cause: err }));
        else resolve();
      };
      socket.once('error', finish);
      socket.send(data, this.cfg.port, this.cfg.host, (err) => finish(err));
    });
  }

  private sendTcp(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.cfg.host, port: this.cfg.port });
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (err) reject(new Error(`syslog ${this.cfg.host}:${this.cfg.port}/tcp: ${err.message}`, { cause: err }));
        else resolve();
      };
      socket.setTimeout(this.cfg.timeoutMs, () => finish(new Error(`no progress within ${this.cfg.timeoutMs} ms`)));
      socket.once('error', finish);
      socket.once('connect', () => {
        // Octet counting: "<length> <message>".
        socket.end(Buffer.concat([Buffer.from(`${data.length} `), data]));
      });
      // All written and the server closed its side too: the message is with the server.
      socket.once('close', (hadError) => finish(hadError ? new Error('connection closed with an error') : undefined));
    });
  }
}
