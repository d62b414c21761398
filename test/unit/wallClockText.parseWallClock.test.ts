import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseWallClock } from '../../src/adapters/postgres/wallClockText.js';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
console.log(`parseWallClock: fast-check seed ${SEED} (replay with FC_SEED=${SEED})`);

/** PostgreSQL's ISO output of a timestamp: fraction digits only when non-zero, trailing zeros cut. */
function pgIso(d: Date, micros: number): string {
  const base = d.toISOString().slice(0, 19).replace('T', ' ');
  const frac = String(d.getUTCMilliseconds() * 1000 + micros).padStart(6, '0').replace(/0+$/, '');
  return frac ? `${base}.${frac}` : base;
}

describe('parseWallClock', () => {
  it('reads PostgreSQL ISO text as UTC, microseconds cut to milliseconds', () => {
    expect(parseWallClock('2026-11-14 08:10:44', 'UTC').toISOString()).toBe('2026-11-14T08:10:44.000Z');
    expect(parseWallClock('2026-11-14 08:10:44.5', 'UTC').toISOString()).toBe('2026-11-14T08:10:44.500Z');
    expect(parseWallClock('2026-11-14 08:10:44.123999', 'UTC').toISOString()).toBe('2026-11-14T08:10:44.123Z');
    expect(parseWallClock('2026-11-14T08:10:44.000001', 'UTC').toISOString()).toBe('2026-11-14T08:10:44.000Z');
  });

  it('gives back every instant PostgreSQL renders, for any date and fraction', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        (d, micros) => {
          expect(parseWallClock(pgIso(d, micros), 'UTC').getTime()).toBe(d.getTime());
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('reads a wall clock in the node\'s timestampZone, as luxon does (DST gaps included)', () => {
    for (const text of ['2026-03-29 02:30:00', '2026-10-25 02:30:00', '2026-07-01 12:00:00.25']) {
      const want = DateTime.fromSQL(text, { zone: 'Europe/Paris' }).toJSDate().getTime();
      expect(parseWallClock(text, 'Europe/Paris').getTime()).toBe(want);
    }
  });

  it('takes an explicit offset (a timestamptz column) over the zone', () => {
    expect(parseWallClock('2026-11-14 08:10:44+00', 'Europe/Paris').toISOString()).toBe('2026-11-14T08:10:44.000Z');
    expect(parseWallClock('2026-11-14 08:10:44.25+05:30', 'UTC').toISOString()).toBe('2026-11-14T02:40:44.250Z');
    expect(parseWallClock('1900-01-01 00:00:00-03:30:45', 'UTC').toISOString()).toBe('1900-01-01T03:30:45.000Z');
  });

  it('keeps years before 100 as written', () => {
    expect(parseWallClock('0050-06-01 00:00:00', 'UTC').getUTCFullYear()).toBe(50);
  });

  it.each([
    'infinity', '-infinity', '', '2026-11-14', '2026-11-14 08:10', '2026-02-29 00:00:00', '2026-13-01 00:00:00',
    '2026-11-31 00:00:00', '2026-11-14 24:00:00', '2026-11-14 08:60:00', '2026-11-14 08:10:44.', '2026-11-14 08:10:44.1234567',
    '2026-11-14 08:10:44 BC', '2026-11-14 08:10:44+', '2026-11-14 08:10:44+1', '2026-11-14 08:10:44+01:', '2026/11/14 08:10:44', '20261-11-14 08:10:44',
  ])('is an Invalid Date for %j', (text) => {
    expect(Number.isNaN(parseWallClock(text, 'UTC').getTime())).toBe(true);
  });
});
