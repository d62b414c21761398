// Damaged state never switches a safety off, and no command ignores what it was given: the
// real CLI against a real PostgreSQL AFT_LOG and a real OpenSSH SFTP server.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, present, runCli, show, summaryRecord, usePurgeEnv, type Fixture } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (ms: number) => new Date(Date.now() - ms);

async function expiredUploads(f: Fixture, n: number, node = f.node) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await node.upload({ chatType: 'im', at: ago(5 * HOUR_MS + i * 1000), size: 1000 }));
  return out;
}

const DAMAGE: Array<[what: string, write: (file: string) => void, problem: RegExp]> = [
  ['empty', (f) => writeFileSync(f, ''), /is empty/],
  ['cut short', (f) => writeFileSync(f, '{"version":1,"nodes":{"node_1":{"im":[5,5,'), /is not valid JSON, perhaps cut short/],
  ['binary', (f) => writeFileSync(f, Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x01, 0x02])), /is not text \(binary content\)/],
  ['a directory', (f) => mkdirSync(f), /is a directory, not a file/],
  ['null', (f) => writeFileSync(f, 'null\n'), /holds null instead of a purge history/],
  ['of the wrong shape', (f) => writeFileSync(f, JSON.stringify({ version: 1, nodes: { node_1: { im: 'lots' } } })), /nodes\.node_1\.im that is not a list of positive file counts/],
];

describe('a damaged purge history: the relative limit refuses what it cannot judge', () => {
  for (const [what, write, problem] of DAMAGE) {
    it(`${what}: exit 4, nothing removed, the file named with the reset command; the dry-run says the same; the file is kept`, async () => {
      const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { minFiles: 3 }) });
      const state = join(f.configDir, 'state');
      mkdirSync(state, { recursive: true });
      const file = join(state, 'purge-history.json');
      write(file);
      const damaged = readdirSync(state);
      const ups = await expiredUploads(f, 4);
      await f.node.upload({ chatType: 'im', at: ago(60_000) }); // not every im file goes (purgeAll)
      const before = await f.snapshot();

      const r = await f.purge();
      expect(r.code, show(r)).toBe(4);
      expect(await f.snapshot()).toEqual(before);
      expect(r.stdout).toContain('REFUSED im (limit maxTimesUsual): cannot tell whether removing 4 im files is unusually many: the purge history');
      expect(r.stdout).toContain(file);
      expect(r.stdout).toMatch(problem);
      expect(r.stdout).toContain(`mft-retention state reset-history --config ${f.configPath} --node node_1`);
      const d = await f.purge('--dry-run', '--json');
      expect(d.code, show(d)).toBe(4);
      expect(summaryRecord(d.stdout).nodes[0].refused[0]).toMatchObject({ chatType: 'im', limit: 'maxTimesUsual', measured: 4 });
      expect(summaryRecord(d.stdout).nodes[0].refused[0].message).toMatch(problem);
      expect(readdirSync(state)).toEqual(damaged);

      const reset = await runCli(['state', 'reset-history', '--config', f.configPath, '--node', 'node_1']);
      expect(reset.code, show(reset)).toBe(0);
      expect(reset.stdout).toContain(file);
      const ok = await f.purge();
      expect(ok.code, show(ok)).toBe(0);
      for (const u of ups) expect(present(u.path)).toBe(false);
      expect(JSON.parse(readFileSync(file, 'utf8')).nodes.node_1.im).toEqual([4]);
    });
  }

  it('a run below purge.limits.minFiles is not judged by the relative limit, so it goes ahead', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { minFiles: 10 }) });
    const state = join(f.configDir, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'purge-history.json'), '');
    const ups = await expiredUploads(f, 2);
    const r = await f.purge();
    expect(r.code, show(r)).toBe(0);
    for (const u of ups) expect(present(u.path)).toBe(false);
  });
});

describe('a damaged alarms.json is a startup error naming the file', () => {
  for (const [what, content] of [
    ['cut short', '{"version":1,"active":{'],
    ['null', 'null'],
    ['a directory', undefined],
  ] as const) {
    it(`${what}: alarms, purge --alarms and the daemon exit 2 with the file name and no stack; the purge does not start`, async () => {
      const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.daemon = { ...c.daemon, http: { listen: '127.0.0.1:0' } }) });
      const state = join(f.configDir, 'state');
      mkdirSync(state, { recursive: true });
      const file = join(state, 'alarms.json');
      if (content === undefined) mkdirSync(file);
      else writeFileSync(file, content);
      const ups = await expiredUploads(f, 1);
      for (const args of [['alarms'], ['purge', '--alarms'], ['daemon']]) {
        const r = await runCli([...args, '--config', f.configPath]);
        expect(r.code, `${args.join(' ')}\n${show(r)}`).toBe(2);
        // The daemon logs to standard output (for journald), the commands to standard error.
        const out = args[0] === 'daemon' ? r.stdout : r.stderr;
        expect(out, show(r)).toContain(file);
        expect(out).toContain('mft-retention state reset-alarms');
        expect(out).not.toMatch(/\n\s+at |\\n\s+at /);
      }
      expect(present(ups[0]!.path)).toBe(true);
    });
  }
});

describe('node names on the command line', () => {
  it('an unknown NODE is an error naming the known nodes; a known one restricts the purge to it', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' }, nodes: [{ name: 'alpha' }, { name: 'beta' }] });
    const a = await expiredUploads(f, 1, f.nodes[0]);
    const b = await expiredUploads(f, 1, f.nodes[1]);
    const before = await f.snapshot();
    const bad = await runCli(['purge', '-c', f.configPath, 'node_9']);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toContain('node "node_9" is not in');
    expect(bad.stderr).toContain('configured nodes: alpha, beta');
    expect(await f.snapshot()).toEqual(before);
    const one = await runCli(['purge', '-c', f.configPath, 'beta']);
    expect(one.code, show(one)).toBe(0);
    expect(present(a[0]!.path)).toBe(true);
    expect(present(b[0]!.path)).toBe(false);
  });
});
