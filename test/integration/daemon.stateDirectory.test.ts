// The daemon survives its own state directory: read-only from the start, or full while it
// runs (a small real tmpfs). It keeps purging, serves /healthz as degraded saying why, raises
// MFTRetentionStateWriteError at a real webhook receiver, leaves no temporary file behind, and
// clears the alarm once the directory can be written again.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, getText, waitFor, type DaemonProcess } from '../helpers/daemonHarness.js';
import { startPostgres } from '../helpers/pgServer.js';
import { startSshd } from '../helpers/sshdServer.js';

interface Event {
  event: string;
  alarm: string;
  node: string;
  value: string;
}

class Receiver {
  readonly events: Event[] = [];
  private server!: Server;
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        this.events.push(JSON.parse(text) as Event);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alarms`;
  }
  of(alarm: string): string[] {
    return this.events.filter((e) => e.alarm === alarm).map((e) => e.event);
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const ALARM = 'MFTRetentionStateWriteError';
let bed: DaemonTestBed;
let receiver: Receiver;
const mounts: string[] = [];

beforeAll(async () => {
  bed = await DaemonTestBed.start(startPostgres, startSshd);
});
afterEach(async () => {
  await bed.killDaemons();
  await receiver?.stop();
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});
afterAll(() => bed?.close());

/** A config whose state directory is a tmpfs of `size` of its own. */
async function setup(name: string, size: string): Promise<{ file: string; state: string; url: string; n: Awaited<ReturnType<DaemonTestBed['node']>> }> {
  receiver = new Receiver();
  const url = await receiver.start();
  const n = await bed.node(name);
  const file = bed.config([n], {
    schedule: '*/2 * * * * *',
    extra: { log: { level: 'debug' }, alarms: { checkInterval: 'PT1S', delivery: { retryInitial: 'PT0.2S', retryMax: 'PT0.5S' }, sinks: [{ type: 'webhook', url }] } },
  });
  const state = join(file, '..', 'state');
  mkdirSync(state, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', state]);
  mounts.push(state);
  return { file, state, url, n };
}

async function health(d: DaemonProcess): Promise<Record<string, any>> {
  return JSON.parse((await getText(`${await d.url()}/healthz`)).body);
}

const tempFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
/** A write in progress has its temporary file for a moment; one left behind stays. */
const noTempLeft = (dir: string): Promise<boolean> => waitFor(`no temporary file left in ${dir} (${tempFiles(dir).join(', ')})`, () => tempFiles(dir).length === 0, 5_000, 20);

describe('a state directory that cannot be written', () => {
  it('read-only from the start: the daemon purges, reports degraded, raises the alarm, and clears it once writable', async () => {
    const { file, state, n } = await setup('ro_1', '1m');
    execFileSync('mount', ['-o', 'remount,ro', state]);
    const paths = await n.seed(5, { ageHours: 72 });
    const d = bed.daemon(file);

    await waitFor('the raised state alarm at the receiver', () => receiver.of(ALARM).includes('raised'), 20_000);
    await waitFor('the expired files purged', () => paths.every((p) => !existsSync(p)), 20_000);
    // Well past the catch-up purge and a few scheduled ones: still alive, still serving.
    await new Promise((r) => setTimeout(r, 4000));
    expect(d.running, d.dump()).toBe(true);
    const h = await health(d);
    expect(h.status).toBe('degraded');
    expect(h.degraded).toContain(state);
    expect(h.stateDirectory.writable).toBe(false);
    expect(h.stateDirectory.problems.map((p: { file: string }) => p.file)).toContain(join(state, 'daemon-state.json'));
    expect(d.stderr.join('')).not.toContain('UnhandledPromiseRejection');
    expect(d.find((l) => l.msg.startsWith('unexpected: an unhandled promise rejection'))).toBeUndefined();

    execFileSync('mount', ['-o', 'remount,rw', state]);
    await waitFor('the cleared state alarm', () => receiver.of(ALARM).includes('cleared'), 60_000);
    await waitFor('healthz ok again', async () => (await health(d)).status === 'ok', 20_000);
    expect(receiver.of(ALARM)).toEqual(['raised', 'cleared']);
    expect(existsSync(join(state, 'daemon-state.json'))).toBe(true);
    await noTempLeft(state);
  });

  it('full while running: degraded with ENOSPC, the alarm raised, no temporary file left, cleared after space is freed', async () => {
    const { file, state, n } = await setup('full_1', '256k');
    const d = bed.daemon(file);
    await d.url();
    await waitFor('healthz ok', async () => (await health(d)).status === 'ok');
    // Fill the file system to the last byte.
    const filler = join(state, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(1024 * 1024, 1));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const paths = await n.seed(3, { ageHours: 72 });
    await waitFor('the raised state alarm at the receiver', () => receiver.of(ALARM).includes('raised'), 30_000);
    await waitFor('the expired files purged', () => paths.every((p) => !existsSync(p)), 20_000);
    const h = await health(d);
    expect(h.status, JSON.stringify(h)).toBe('degraded');
    expect(h.stateDirectory.problems.map((p: { error: string }) => p.error)).toContain('ENOSPC');
    expect(d.running).toBe(true);
    await noTempLeft(state);

    rmSync(filler);
    await waitFor('the cleared state alarm', () => receiver.of(ALARM).includes('cleared'), 60_000);
    expect(receiver.of(ALARM)).toEqual(['raised', 'cleared']);
    expect((await health(d)).status).toBe('ok');
    await noTempLeft(state);
  });
});
