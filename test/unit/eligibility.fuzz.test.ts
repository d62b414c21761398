import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Duration } from 'luxon';
import { CHAT_TYPES, type ChatType } from '../../src/core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../../src/core/clock.js';
import { decide, type EligibilityContext, type UploadRow } from '../../src/core/eligibility.js';

// Property-based checks of the eligibility rule. The seed is printed on every run (fast-check
// also prints it, with the counterexample and its path, on failure); replay with FC_SEED=<seed>.
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 10_000);
console.log(`eligibility.fuzz: fast-check seed ${SEED}, numRuns ${NUM_RUNS} (replay with FC_SEED=${SEED})`);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NODE = '/opt/mftFileStore/node_1';
const FILES = `${NODE}/files/`;

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const dateFolderOf = (t: Date) => `${pad(t.getUTCFullYear(), 4)}${pad(t.getUTCMonth() + 1, 2)}${pad(t.getUTCDate(), 2)}`;
const hourFolderOf = (t: Date) => pad(t.getUTCHours(), 2);

// ---- arbitraries ---------------------------------------------------------------------------

const chatTypeArb = fc.constantFrom(...CHAT_TYPES);
const badChatFolderArb = fc.constantFrom('IM', 'Im', 'video', '', '.', '..', 'im ', ' im', 'groupchat\u0000', 'persistent/');

const dateFolderArb = fc.oneof(
  fc.date({ min: new Date('1999-01-01T00:00:00Z'), max: new Date('2101-01-01T00:00:00Z'), noInvalidDate: true }).map(dateFolderOf),
  fc.constantFrom('20240229', '20230229', '21000229', '20241340', '20241301', '20240100', '20240431', '00000000', '99991231', '2024031', '202403011', '2024-03-01', '２０２４０３０１', ''),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([y, m, d]) => `${pad(y, 4)}${pad(m, 2)}${pad(d, 2)}`),
);

const hourFolderArb = fc.oneof(
  fc.integer({ min: 0, max: 23 }).map((h) => pad(h, 2)),
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 999_999 })).map(([h, n]) => `${pad(h, 2)}.${n}`),
  fc.constantFrom('24', '25', '1', '001', '16.0', '16.01', '16.', '16.1.2', '-1', '99', '16.1000000', '１６', '', '.', '..'),
  fc.integer({ min: 0, max: 99 }).map(String),
);

const fileNameArb = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary', minLength: 0, maxLength: 30 }),
    fc.string({ unit: 'binary-ascii', minLength: 0, maxLength: 30 }),
    fc.constantFrom('..', '.', '', 'a\u0000b', 'x\ny', 'a\rb', '\t', 'file_name', '100%_x', 'a\\b', '"q"', "it's", 'Ü.pdf', '🎉', 'a'.repeat(600), '../x', 'a/b'),
  )
  ;

const segmentArb = fc.oneof(
  dateFolderArb,
  hourFolderArb,
  fileNameArb,
  chatTypeArb,
  badChatFolderArb,
  fc.constantFrom('..', '.', '', 'files', 'node_1', 'node_10', 'opt', 'mftFileStore', '\u0000', '\n'),
);

const prefixArb = fc.constantFrom(
  FILES,
  FILES,
  FILES,
  `${NODE}/files`,
  `${NODE}//files/`,
  '/opt/mftFileStore/node_10/files/',
  '/opt/mftFileStore/node_2/files/',
  '/opt/mftFileStore/node_1/../node_1/files/',
  `${NODE}/`,
  '',
  '/',
  `${FILES}../`,
  `${FILES}./`,
  `${FILES}/`,
  'opt/mftFileStore/node_1/files/',
  `${FILES}im/../`,
  '/opt/mftFileStore/node_1\u0000/files/',
);

/** Where in time something is placed: relative to one of the context's instants. */
type Anchor = 'currentHourStart' | 'retentionCutoff' | 'now';
const anchorArb = fc.constantFrom<Anchor>('currentHourStart', 'retentionCutoff', 'now');
const offsetArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.tuple(fc.integer({ min: -48, max: 48 }), fc.constantFrom(-1, 0, 1)).map(([h, e]) => h * HOUR + e),
  fc.integer({ min: -2 * HOUR, max: 2 * HOUR }),
  fc.integer({ min: -400 * DAY, max: 400 * DAY }),
  fc.integer({ min: -400 * DAY, max: -1 }),
);

type PathSpec =
  | { kind: 'arbitrary'; prefix: string; text: string }
  | { kind: 'segments'; prefix: string; segments: string[]; trailingSlash: boolean }
  | {
      kind: 'nearValid';
      chat: ChatType | 'policy' | string;
      folderAnchor: Anchor | 'upload';
      folderOffset: number;
      roll: string;
      dateOverride: string | null;
      hourOverride: string | null;
      fileName: string;
      extra: string[];
    };

const pathSpecArb: fc.Arbitrary<PathSpec> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('arbitrary' as const), prefix: fc.constantFrom('', FILES, `${FILES}im/`), text: fc.string({ unit: 'binary', maxLength: 80 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('segments' as const), prefix: prefixArb, segments: fc.array(segmentArb, { minLength: 0, maxLength: 7 }), trailingSlash: fc.boolean() }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('nearValid' as const),
      chat: fc.oneof({ weight: 6, arbitrary: fc.constant('policy') }, { weight: 2, arbitrary: chatTypeArb }, { weight: 1, arbitrary: badChatFolderArb }),
      folderAnchor: fc.oneof({ weight: 4, arbitrary: fc.constant('upload' as const) }, { weight: 3, arbitrary: anchorArb }),
      folderOffset: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: offsetArb }),
      roll: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 999_999 }).map((n) => `.${n}`) }, { weight: 1, arbitrary: fc.constantFrom('.0', '.01', '.', '.1.1', ' ') }),
      dateOverride: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: dateFolderArb }),
      hourOverride: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hourFolderArb }),
      fileName: fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/) }, { weight: 2, arbitrary: fileNameArb }),
      extra: fc.oneof({ weight: 6, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.array(segmentArb, { minLength: 1, maxLength: 2 }) }),
    }),
  },
);

interface ClockSpec {
  hostNow: Date;
  dbOffset: number | null;
  retention: { iso: string } | { cutoffOffset: number };
}
const clockArb: fc.Arbitrary<ClockSpec> = fc.record({
  hostNow: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true }),
  dbOffset: fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -2 * HOUR, max: 2 * HOUR })), { nil: null }),
  retention: fc.oneof(
    fc.record({ iso: fc.constantFrom('PT1H', 'PT36H', 'P1D', 'P7D', 'P30D', 'P1M', 'P1Y', 'PT0.001S', 'P1W') }),
    // Any cutoff, even after "now": the invariant must hold whatever the cutoff is.
    fc.record({ cutoffOffset: fc.oneof(fc.integer({ min: -3 * HOUR, max: 3 * HOUR }), fc.integer({ min: -10 * DAY, max: 800 * DAY })) }),
  ),
});

interface RowSpec {
  rowChat: 'policy' | string;
  upload: { anchor: Anchor; offset: number } | 'invalid';
}
const rowArb: fc.Arbitrary<RowSpec> = fc.record({
  rowChat: fc.oneof({ weight: 8, arbitrary: fc.constant('policy') }, { weight: 2, arbitrary: chatTypeArb }, { weight: 1, arbitrary: fc.constantFrom('IM', 'im ', '', 'video') }),
  upload: fc.oneof({ weight: 30, arbitrary: fc.record({ anchor: anchorArb, offset: offsetArb }) }, { weight: 1, arbitrary: fc.constant('invalid' as const) }),
});

// ---- building a case -------------------------------------------------------------------------

interface Case {
  ctx: EligibilityContext;
  now: Date;
  row: UploadRow;
}

function buildCase(policy: ChatType, clock: ClockSpec, rowSpec: RowSpec, pathSpec: PathSpec): Case {
  const times = resolvePurgeTimes(clock.hostNow, clock.dbOffset === null ? undefined : new Date(clock.hostNow.getTime() + clock.dbOffset));
  const cutoff =
    'iso' in clock.retention ? retentionCutoff(times.now, Duration.fromISO(clock.retention.iso)) : new Date(times.now.getTime() - clock.retention.cutoffOffset);
  const ctx: EligibilityContext = { nodeDirectory: NODE, chatType: policy, retentionCutoff: cutoff, currentHourStart: times.currentHourStart };
  const anchorTime = (a: Anchor) => (a === 'currentHourStart' ? ctx.currentHourStart : a === 'retentionCutoff' ? ctx.retentionCutoff : times.now).getTime();
  const uploadedAt = rowSpec.upload === 'invalid' ? new Date(Number.NaN) : new Date(anchorTime(rowSpec.upload.anchor) + rowSpec.upload.offset);

  let filePath: string;
  switch (pathSpec.kind) {
    case 'arbitrary':
      filePath = pathSpec.prefix + pathSpec.text;
      break;
    case 'segments':
      filePath = pathSpec.prefix + pathSpec.segments.join('/') + (pathSpec.trailingSlash ? '/' : '');
      break;
    case 'nearValid': {
      const base = pathSpec.folderAnchor === 'upload' ? uploadedAt.getTime() : anchorTime(pathSpec.folderAnchor);
      const folderTime = new Date((Number.isNaN(base) ? times.now.getTime() : base) + pathSpec.folderOffset);
      const chat = pathSpec.chat === 'policy' ? policy : pathSpec.chat;
      const date = pathSpec.dateOverride ?? dateFolderOf(folderTime);
      const hour = pathSpec.hourOverride ?? hourFolderOf(folderTime) + pathSpec.roll;
      filePath = [`${FILES}${chat}`, date, hour, ...pathSpec.extra, pathSpec.fileName].join('/');
      break;
    }
  }
  const row: UploadRow = {
    aftIndex: '1',
    filePath,
    fileSize: 1,
    chatType: rowSpec.rowChat === 'policy' ? policy : rowSpec.rowChat,
    uploadedAt,
    jid: 'a@example.com',
    toJid: 'b@example.com',
  };
  return { ctx, now: times.now, row };
}

// ---- the oracle: an independent statement of what a deletable path is ------------------------

/** Start of the hour named by YYYYMMDD and HH[.n], or undefined if they are not a real date/hour. */
function oracleHourStart(date: string, hour: string): number | undefined {
  const dm = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const hm = /^(\d{2})(?:\.[1-9]\d*)?$/.exec(hour);
  if (!dm || !hm) return undefined;
  const [y, m, d, h] = [Number(dm[1]), Number(dm[2]), Number(dm[3]), Number(hm[1])];
  if (m < 1 || m > 12 || d < 1 || h > 23) return undefined;
  const daysInMonth = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  if (d > daysInMonth) return undefined;
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  t.setUTCHours(h, 0, 0, 0);
  return t.getTime();
}

function assertDeleteIsSafe(c: Case): boolean {
  const d = decide(c.row, c.ctx);
  if (d.decision !== 'delete') return false;
  const p = c.row.filePath!;
  const where = `decide deleted ${JSON.stringify(p)} (row chat_type ${JSON.stringify(c.row.chatType)}, uploadedAt ${c.row.uploadedAt.toISOString()}) with ctx ${JSON.stringify(c.ctx)}`;
  expect(typeof p, where).toBe('string');
  expect(p.startsWith(`${FILES}${c.ctx.chatType}/`), where).toBe(true);
  expect(c.row.chatType, where).toBe(c.ctx.chatType);
  const segments = p.slice(FILES.length).split('/');
  expect(segments, where).toHaveLength(4);
  for (const s of segments) expect(['', '.', '..'], where).not.toContain(s);
  expect(/\p{Cc}/u.test(p), where).toBe(false);
  const [, date, hour] = segments as [string, string, string, string];
  const hourStart = oracleHourStart(date, hour);
  expect(hourStart, where).toBeDefined();
  expect(d.parsed.hourStart.getTime(), where).toBe(hourStart);
  const uploaded = c.row.uploadedAt.getTime();
  const chs = c.ctx.currentHourStart.getTime();
  const cut = c.ctx.retentionCutoff.getTime();
  expect(hourStart! < chs, where).toBe(true);
  expect(hourStart! < cut, where).toBe(true);
  expect(uploaded < chs, where).toBe(true);
  expect(uploaded < cut, where).toBe(true);
  // And never something of the current hour by the host clock either.
  expect(uploaded < c.now.getTime(), where).toBe(true);
  return true;
}

// ---- properties -----------------------------------------------------------------------------

describe('decide (property-based)', () => {
  it('only ever deletes a well-formed, expired file of the policy\'s chat type under the node directory', () => {
    let deletes = 0;
    let runs = 0;
    fc.assert(
      fc.property(chatTypeArb, clockArb, rowArb, pathSpecArb, (policy, clock, rowSpec, pathSpec) => {
        runs++;
        if (assertDeleteIsSafe(buildCase(policy, clock, rowSpec, pathSpec))) deletes++;
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    console.log(`eligibility.fuzz: ${deletes} deletes in ${runs} runs`);
    // The generators must reach the delete branch often enough for the property to mean something.
    expect(deletes).toBeGreaterThan(NUM_RUNS / 50);
  });

  it('never deletes an arbitrary string path', () => {
    fc.assert(
      fc.property(chatTypeArb, clockArb, rowArb, fc.string({ unit: 'binary', maxLength: 200 }), (policy, clock, rowSpec, text) => {
        assertDeleteIsSafe(buildCase(policy, clock, rowSpec, { kind: 'arbitrary', prefix: '', text }));
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('deletes every well-formed file whose upload time and hour folder are both before the current hour and the cutoff', () => {
    const safeName = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .filter((s) => !s.includes('/') && s !== '.' && s !== '..' && !/\p{Cc}/u.test(s));
    fc.assert(
      fc.property(
        chatTypeArb,
        clockArb,
        fc.integer({ min: 1, max: 5000 * DAY }),
        fc.integer({ min: 0, max: 59 * 60_000 + 59_999 }),
        fc.option(fc.integer({ min: 1, max: 999_999 }), { nil: null }),
        safeName,
        (policy, clock, hoursBackMs, withinHour, roll, name) => {
          const c0 = buildCase(policy, clock, { rowChat: 'policy', upload: { anchor: 'now', offset: 0 } }, { kind: 'arbitrary', prefix: '', text: '' });
          const limit = Math.min(c0.ctx.currentHourStart.getTime(), c0.ctx.retentionCutoff.getTime());
          // An hour folder that starts strictly before the limit, and an upload in it also before the limit.
          const hourStart = Math.floor((limit - 1 - hoursBackMs) / HOUR) * HOUR;
          const uploaded = Math.min(hourStart + withinHour, limit - 1);
          const t = new Date(hourStart);
          const row: UploadRow = {
            ...c0.row,
            uploadedAt: new Date(uploaded),
            filePath: `${FILES}${policy}/${dateFolderOf(t)}/${hourFolderOf(t)}${roll === null ? '' : `.${roll}`}/${name}`,
          };
          const d = decide(row, c0.ctx);
          expect(d.decision, `${JSON.stringify(row)} ${JSON.stringify(c0.ctx)} -> ${d.reason}`).toBe('delete');
        },
      ),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  // Regression (was a bug in src/core/filePath.ts CONTROL_CHARS): C1 control characters (U+0080-U+009F, Unicode Cc)
  // are not rejected, so an expired file whose name contains one is deleted.
  it('never deletes a path that contains a C1 control character', () => {
    fc.assert(
      fc.property(
        chatTypeArb,
        fc.integer({ min: 0x80, max: 0x9f }),
        fc.stringMatching(/^[a-z0-9]{0,10}$/),
        fc.stringMatching(/^[a-z0-9]{0,10}$/),
        (policy, code, before, after) => {
          const ctx: EligibilityContext = {
            nodeDirectory: NODE,
            chatType: policy,
            retentionCutoff: new Date('2024-03-01T00:00:00Z'),
            currentHourStart: new Date('2024-03-10T14:00:00Z'),
          };
          const row: UploadRow = {
            aftIndex: '1',
            filePath: `${FILES}${policy}/20240201/08/${before}${String.fromCharCode(code)}${after}`,
            fileSize: 1,
            chatType: policy,
            uploadedAt: new Date('2024-02-01T08:30:00Z'),
            jid: 'a@example.com',
            toJid: 'b@example.com',
          };
          expect(decide(row, ctx).decision).toBe('keep');
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
