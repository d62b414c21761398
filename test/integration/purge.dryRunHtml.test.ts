// `purge --dry-run --html FILE`: the page is rendered in headless Chromium (Debian's `chromium`,
// installed by scripts/install-test-deps.sh), printed to PDF and read back with pdftotext, so
// the test checks what a person sees, not only the markup; a screenshot must not be blank.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { HOUR_MS, hourStart, show, usePurgeEnv } from '../helpers/purgeFixture.js';
import { runOk } from '../helpers/procUtil.js';

const CHROMIUM = '/usr/bin/chromium';
const PDFTOTEXT = '/usr/bin/pdftotext';

const work = mkdtempSync(join(tmpdir(), 'mft-html-'));

beforeAll(() => {
  for (const tool of [CHROMIUM, PDFTOTEXT]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run scripts/install-test-deps.sh (installs chromium and poppler-utils)`);
  }
});
// Runs after the env is destroyed (after-hooks run in reverse order).
afterAll(() => {
  if (!process.env.KEEP_HTML) rmSync(work, { recursive: true, force: true });
});
const env = usePurgeEnv();

const ago = (hours: number) => new Date(hourStart().getTime() - hours * HOUR_MS + 1_000);

/** Flags for a headless Chromium that makes no connection of its own. */
function chromiumArgs(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=1200,900'];
}

/** How many different byte values the decompressed image data of a PNG holds: 1-2 for a blank page. */
function distinctBytes(png: Buffer): number {
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  return new Set(inflateSync(Buffer.concat(idat))).size;
}

describe('purge --dry-run --html', () => {
  it('writes a self-contained page that shows per day and chat type what would go, what is kept and why, and the totals', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'P1D' } });
    await f.node.upload({ at: ago(3), size: 1000, gets: [ago(2)] });
    await f.node.upload({ at: ago(27), size: 2000 });
    await f.node.upload({ chatType: 'groupchat', at: ago(30), size: 500 });
    await f.node.upload({ at: ago(0), size: 111 }); // the current hour: kept
    await f.node.upload({ at: ago(10), path: join(f.outsideDir, 'canary.txt'), size: 333 }); // outside: kept
    const before = await f.snapshot();
    const page = join(work, 'dry-run.html');

    const r = await f.purge('--dry-run', '--html', page);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`The same as a page: ${page}`);
    expect(await f.snapshot()).toEqual(before);
    const html = readFileSync(page, 'utf8');
    // Self-contained: nothing fetched from anywhere.
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);

    const profile = mkdtempSync(join(work, 'profile-'));
    const pdf = join(work, 'dry-run.pdf');
    const png = join(work, 'dry-run.png');
    await runOk(CHROMIUM, [...chromiumArgs(profile), `--print-to-pdf=${pdf}`, '--no-pdf-header-footer', `file://${page}`], { timeoutMs: 60_000 });
    await runOk(CHROMIUM, [...chromiumArgs(profile), `--screenshot=${png}`, `file://${page}`], { timeoutMs: 60_000 });
    const text = (await runOk(PDFTOTEXT, ['-layout', pdf, '-'])).stdout;

    expect(text).toContain('Dry-run: nothing was changed');
    expect(text).toMatch(/Would purge 3 files, 3\.42 KiB, 4 AFT_LOG rows\./);
    expect(text).toContain('Node node_1: ok');
    expect(text).toMatch(/outside-\s*directory:\s*1/);
    // The per-day chart names each day with its count.
    const days = [...new Set([ago(3), ago(27), ago(30)].map((d) => d.toISOString().slice(0, 10)))];
    for (const day of days) expect(text).toContain(day);
    expect(text).toMatch(/\d+ files?\n/);

    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString()).toBe('PNG');
    expect(distinctBytes(image)).toBeGreaterThan(20);
  });

  it('is refused without --dry-run, and for a folder that does not exist, before anything runs', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const u = await f.node.upload({ at: ago(3) });
    const a = await f.purge('--html', join(work, 'x.html'));
    expect(a.code, show(a)).toBe(2);
    expect(a.stderr).toContain('--html FILE writes the page of a dry-run; add --dry-run');
    const b = await f.purge('--dry-run', '--html', join(work, 'no-such-folder', 'x.html'));
    expect(b.code, show(b)).toBe(2);
    expect(b.stderr).toMatch(/no-such-folder does not exist/);
    expect(existsSync(u.path)).toBe(true);
  });
});
