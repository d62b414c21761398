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
const LOG_STREAM = fileURLToPath(new URL('../../dist/src/logStream.js', import.meta.url));

describe('logger with a slow or stopped reader', () => {
  it('keeps the event loop running while the pipe reader is stopped, and reports the dropped lines when it reads again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-log-'));
    const result = join(dir, 'result.json');
    const out = join(dir, 'out.log');
    // 100,000 lines of ~360 bytes: far more than the pipe (64 KiB) and the buffer (16 Mi characters) hold.
    const script = `
      import { writeFileSync } from 'node:fs';
      const { makeLogger, infoMany, droppedLogLines } = await import(${JSON.stringify(LOGGER)});
      const log = makeLogger({ level: 'info', fd: 2, pretty: false }).child({ node: 'node_1' });
      let last = performance.now(), maxLagMs = 0;
      const tick = setInterval(() => { const now = performance.now(); maxLagMs = Math.max(maxLagMs, now - last); last = now; }, 5);
      const pad = 'x'.repeat(180);
      for (let b = 0; b < 100; b++) {
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
    expect(removed.length + notices.reduce((a, n) => a + (n.droppedLines as number), 0)).toBe(100_000);
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
    const journal = run(`${st.dev}:${st.ino}`);
    expect(journal.map((l) => JSON.parse(l.slice(3)).msg)).toEqual(['d', 'removed', 'i', 'w', 'e', 'f']);
    // What journald keeps as MESSAGE, after the prefix: the JSON line.
    const byMessage = (lines: string[], prefixed: boolean) => Object.fromEntries(lines.map((l) => [JSON.parse(prefixed ? l.slice(3) : l).msg, prefixed ? l.slice(0, 3) : 'none']));
    expect(byMessage(journal, true)).toEqual({ d: '<7>', removed: '<6>', i: '<6>', w: '<4>', e: '<3>', f: '<2>' });
    // Inherited by a process whose output goes elsewhere: no prefix.
    const elsewhere = run(`${st.dev}:${st.ino + 1n}`);
    expect(elsewhere.every((l) => l.startsWith('{'))).toBe(true);
    expect(Object.keys(byMessage(elsewhere, false)).sort()).toEqual(['d', 'e', 'f', 'i', 'removed', 'w']);
  });

  it('a forced exit (a second stop signal) writes every line first, whole and in order, to a reader that is slow to read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-log-'));
    const out = join(dir, 'out.log');
    const codeFile = join(dir, 'code');
    // 5,000 lines of ~370 bytes: 1.8 MB, more than a chunk (1 MiB) and the pipe (64 KiB) hold, so
    // that a write is in flight when the exit comes.
    const script = `
      const { makeLogger } = await import(${JSON.stringify(LOGGER)});
      const { exitAfterLogs } = await import(${JSON.stringify(LOG_STREAM)});
      const log = makeLogger({ level: 'info', fd: 2, pretty: false });
      const pad = 'x'.repeat(300);
      for (let i = 0; i < 5000; i++) log.info({ seq: i, pad }, 'line');
      await new Promise((r) => setTimeout(r, 5));
      log.error({ seq: 5000 }, 'second stop signal: forcing the exit');
      exitAfterLogs(3);
    `;
    execFileSync('/bin/sh', ['-c', `{ "$NODE" --input-type=module -e "$SCRIPT" 2>&1; echo $? > "$CODE"; } | { sleep 1; cat > "$OUT"; }`], {
      env: { ...process.env, NODE: process.execPath, SCRIPT: script, OUT: out, CODE: codeFile },
      timeout: 60_000,
    });
    expect(readFileSync(codeFile, 'utf8').trim()).toBe('3');
    // A line cut by the exit would not parse.
    const seq = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(seq).toEqual(Array.from({ length: 5001 }, (_, i) => i));
  });
});
