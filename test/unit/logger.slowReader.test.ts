// The log never makes the event loop wait for its reader: a reader that stops leaves the loop
// running, the lines beyond the buffer are dropped and counted, and the count is logged once
// the reader is back. Under journald each line carries its priority.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LOGGER = fileURLToPath(new URL('../../dist/src/logger.js', import.meta.url));

describe('logger with a slow or stopped reader', () => {
  it('keeps the event loop running while the pipe reader is stopped, and reports the dropped lines when it reads again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-log-'));
    const result = join(dir, 'result.json');
    const out = join(dir, 'out.log');
    // 60,000 lines of ~300 bytes: far more than the pipe (64 KiB) and the buffer (8 Mi characters) hold.
    const script = `
      import { writeFileSync } from 'node:fs';
      const { makeLogger, infoMany, droppedLogLines } = await import(${JSON.stringify(LOGGER)});
      const log = makeLogger({ level: 'info', fd: 2, pretty: false }).child({ node: 'node_1' });
      let last = performance.now(), maxLagMs = 0;
      const tick = setInterval(() => { const now = performance.now(); maxLagMs = Math.max(maxLagMs, now - last); last = now; }, 5);
      const pad = 'x'.repeat(180);
      for (let b = 0; b < 60; b++) {
        const rs = [];
        for (let i = 0; i < 1000; i++) rs.push({ path: '/opt/mftFileStore/node_1/files/im/20261121/03/' + (b * 1000 + i) + '-' + pad, size: 1, rows: 1 });
        infoMany(log, 'removed', rs);
        await new Promise((r) => setTimeout(r, 2));
      }
      writeFileSync(${JSON.stringify(result)}, JSON.stringify({ maxLagMs, dropped: droppedLogLines() }));
      await new Promise((r) => log.flush(r));
      clearInterval(tick);
      log.info('done');
    `;
    execFileSync('/bin/sh', ['-c', `"$NODE" --input-type=module -e "$SCRIPT" 2>&1 | { sleep 3; cat > "$OUT"; }`], {
      env: { ...process.env, NODE: process.execPath, SCRIPT: script, OUT: out },
      timeout: 60_000,
    });
    const { maxLagMs, dropped } = JSON.parse(readFileSync(result, 'utf8')) as { maxLagMs: number; dropped: number };
    // Writing synchronously, the loop would have waited the reader's 3 s.
    expect(maxLagMs).toBeLessThan(1000);
    expect(dropped).toBeGreaterThan(0);
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const removed = lines.filter((l) => l.msg === 'removed');
    const notices = lines.filter((l) => typeof l.droppedLines === 'number');
    expect(notices.length).toBeGreaterThan(0);
    for (const n of notices) {
      expect(n.level).toBe(40);
      expect(n.msg).toMatch(/^\d+ log lines? dropped: the log reader \(journald, a pipe\) did not keep up$/);
    }
    // Every line is either written or counted, and the lines written are whole, in order.
    expect(removed.length + notices.reduce((a, n) => a + (n.droppedLines as number), 0)).toBe(60_000);
    expect(notices.reduce((a, n) => a + (n.droppedLines as number), 0)).toBe(dropped);
    const seq = removed.map((l) => Number(String(l.path).split('/').pop()!.split('-')[0]));
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(lines.at(-1)!.msg).toBe('done');
  });

  it('prefixes each line with its journald priority when its stream is the one JOURNAL_STREAM names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-log-'));
    const file = join(dir, 'journal.log');
    closeSync(openSync(file, 'w'));
    const st = statSync(file, { bigint: true });
    const script = `
      const { makeLogger, infoMany } = await import(${JSON.stringify(LOGGER)});
      const log = makeLogger({ level: 'debug', fd: 1, pretty: false });
      log.debug('d'); infoMany(log, 'removed', [{ path: '/a' }]); log.info('i'); log.warn('w'); log.error('e'); log.fatal('f');
    `;
    const run = (journalStream: string): string[] => {
      const fd = openSync(file, 'w');
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', fd, 'inherit'], env: { ...process.env, JOURNAL_STREAM: journalStream } });
      closeSync(fd);
      return readFileSync(file, 'utf8').split('\n').filter(Boolean);
    };
    // The order of the lines is not what this checks: at exit, the lines still queued are written
    // at once, beside a chunk the thread pool may still be writing.
    const journal = run(`${st.dev}:${st.ino}`);
    // What journald keeps as MESSAGE, after the prefix: the JSON line.
    const byMessage = (lines: string[], prefixed: boolean) => Object.fromEntries(lines.map((l) => [JSON.parse(prefixed ? l.slice(3) : l).msg, prefixed ? l.slice(0, 3) : 'none']));
    expect(byMessage(journal, true)).toEqual({ d: '<7>', removed: '<6>', i: '<6>', w: '<4>', e: '<3>', f: '<2>' });
    // Inherited by a process whose output goes elsewhere: no prefix.
    const elsewhere = run(`${st.dev}:${st.ino + 1n}`);
    expect(elsewhere.every((l) => l.startsWith('{'))).toBe(true);
    expect(Object.keys(byMessage(elsewhere, false)).sort()).toEqual(['d', 'e', 'f', 'i', 'removed', 'w']);
  });
});
