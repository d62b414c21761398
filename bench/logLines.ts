// Cost of the purge's per-file log lines: µs per line written by infoMany (the purge's batch
// logging) and by log.info one at a time, into a file, 100,000 lines in batches of 1,000.
//   node dist/bench/logLines.js [FILE]
import { closeSync, openSync, statSync } from 'node:fs';
import * as current from '../src/logger.js';

// LOGGER_MODULE=path: measure another build of logger.js (e.g. an older one) with the same lines.
const { infoMany, makeLogger } = (process.env.LOGGER_MODULE ? await import(process.env.LOGGER_MODULE) : current) as typeof current;

const file = process.argv[2] ?? '/tmp/mft-loglines.jsonl';
const LINES = 100_000;
const BATCH = 1_000;

function records(batch: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < BATCH; i++) {
    const n = batch * BATCH + i;
    out.push({ path: `/opt/mftFileStore/node_1/files/im/20261121/03/${n.toString(16)}-upload.pdf`, size: 123_456, rows: 2, aftIndex: String(n), alreadyMissing: false });
  }
  return out;
}

async function measure(label: string, writeBatch: (log: ReturnType<typeof makeLogger>, rs: Array<Record<string, unknown>>) => void): Promise<void> {
  const fd = openSync(file, 'w');
  const log = makeLogger({ level: 'info', fd: fd as 1, pretty: false }).child({ runId: 'abcdef12', trigger: 'schedule' }).child({ node: 'node_1' }).child({ chatType: 'im' });
  const batches = Array.from({ length: LINES / BATCH }, (_, b) => records(b));
  const t0 = performance.now();
  // As in a purge: a batch's lines, then I/O (here a turn of the event loop) before the next.
  let cpuMs = 0;
  for (const rs of batches) {
    const t = performance.now();
    writeBatch(log, rs);
    cpuMs += performance.now() - t;
    await new Promise((r) => setImmediate(r));
  }
  await new Promise<void>((r) => log.flush(() => r()));
  const totalMs = performance.now() - t0;
  closeSync(fd);
  console.log(`${label}: ${((cpuMs * 1000) / LINES).toFixed(2)} µs/line on the event loop, ${((totalMs * 1000) / LINES).toFixed(2)} µs/line until written; ${statSync(file).size} bytes`);
}

for (let round = 0; round < 3; round++) {
  await measure('infoMany      ', (log, rs) => infoMany(log, 'removed', rs));
  await measure('log.info each ', (log, rs) => {
    for (const r of rs) log.info(r, 'removed');
  });
}
