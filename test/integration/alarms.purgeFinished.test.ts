// The opt-in "purge finished" event: a real daemon purges a node and posts the run's summary
// (per chat type) to the webhook sink that asked for it, valid against the published schema;
// a sink that did not ask gets no such event.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ajv2020Module from 'ajv/dist/2020.js';
import ajvFormatsModule from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALARM_EVENT_SCHEMA_FILE } from '../../src/alarms/alarmEventJsonSchema.js';
import { DaemonTestBed, waitFor } from '../helpers/daemonHarness.js';
import { ROOT } from '../helpers/monitoringFiles.js';
import { startPostgres } from '../helpers/pgServer.js';
import { startSshd } from '../helpers/sshdServer.js';

const Ajv2020 = ajv2020Module.default;
const addFormats = ajvFormatsModule.default;

/** Collects the JSON bodies posted to it. */
async function receiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; server: Server }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, bodies, server };
}

describe('purge finished event', () => {
  let bed: DaemonTestBed;
  const servers: Server[] = [];

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(() => bed.killDaemons());
  afterAll(async () => {
    await bed?.close();
    for (const s of servers) s.close();
  });

  it('goes to the sink with purgeFinished: true, with the summary per chat type, and not to the others', async () => {
    const evidence = await receiver();
    const alarmsOnly = await receiver();
    servers.push(evidence.server, alarmsOnly.server);
    const n = await bed.node('pf_1');
    const im = await n.seed(4);
    const group = await n.seed(2, { chatType: 'groupchat' });
    const file = bed.config([n], {
      schedule: '0 0 1 1 *',
      extra: { alarms: { sinks: [{ type: 'webhook', name: 'evidence', url: evidence.url, purgeFinished: true }, { type: 'webhook', name: 'alarms-only', url: alarmsOnly.url }] } },
    });
    const d = bed.daemon(file);
    await d.url();
    await waitFor('the catch-up purge', async () => (await n.rowsFor([...im, ...group])).size === 0);
    const event = await waitFor('the purge finished event', () => evidence.bodies.find((b) => b.event === 'purge-finished'));

    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(ROOT, ALARM_EVENT_SCHEMA_FILE), 'utf8')) as object);
    expect(validate(event), ajv.errorsText(validate.errors)).toBe(true);
    expect(event).toMatchObject({ version: 1, node: 'pf_1', status: 'ok', files: 6, rows: 6, failures: 0, error: null });
    const chatTypes = event.chatTypes as Array<Record<string, unknown>>;
    expect(chatTypes.find((c) => c.chatType === 'im')).toMatchObject({ files: 4, rows: 4, retention: 'P1D' });
    expect(chatTypes.find((c) => c.chatType === 'groupchat')).toMatchObject({ files: 2, rows: 2 });
    // The daemon's log of the run and the event agree.
    const logged = d.find((l) => l.msg === 'purge finished')!;
    expect(event.startedAt).toBe(logged.startedAt);

    // Give the other sink the time the first one took, and more: it gets no such event.
    await new Promise((r) => setTimeout(r, 500));
    expect(alarmsOnly.bodies.filter((b) => b.event === 'purge-finished')).toEqual([]);
    expect(evidence.bodies.filter((b) => b.event === 'purge-finished')).toHaveLength(1);
  });
});
