import { describe, it, expect } from 'vitest';
import { Duration } from 'luxon';
import { resolvePurgeTimes, retentionCutoff, startOfUtcHour } from '../../src/core/clock.js';
import { parseIsoDuration } from '../../src/config/duration.js';

const iso = (d: Date) => d.toISOString();

describe('resolvePurgeTimes', () => {
  const host = new Date('2024-03-10T14:25:30.123Z');

  it('uses the database clock when it is behind the host clock', () => {
    const db = new Date('2024-03-10T13:59:59.999Z');
    const t = resolvePurgeTimes(host, db);
    expect(iso(t.now)).toBe('2024-03-10T13:59:59.999Z');
    expect(iso(t.currentHourStart)).toBe('2024-03-10T13:00:00.000Z');
  });

  it('uses the host clock when the database clock is ahead', () => {
    const db = new Date('2024-03-10T15:00:00.000Z');
    const t = resolvePurgeTimes(host, db);
    expect(iso(t.now)).toBe(iso(host));
    expect(iso(t.currentHourStart)).toBe('2024-03-10T14:00:00.000Z');
  });

  it('uses the host clock when there is no database clock, with skew 0', () => {
    const t = resolvePurgeTimes(host);
    expect(iso(t.now)).toBe(iso(host));
    expect(t.skewMs).toBe(0);
  });

  it('reports a positive skew when the database clock is ahead of the host', () => {
    expect(resolvePurgeTimes(host, new Date(host.getTime() + 90_000)).skewMs).toBe(90_000);
  });

  it('reports a negative skew when the database clock is behind the host', () => {
    expect(resolvePurgeTimes(host, new Date(host.getTime() - 1500)).skewMs).toBe(-1500);
  });

  it('reports zero skew for equal clocks', () => {
    const t = resolvePurgeTimes(host, new Date(host.getTime()));
    expect(t.skewMs).toBe(0);
    expect(iso(t.now)).toBe(iso(host));
  });

  it('starts the current hour on the UTC hour boundary of the earliest clock', () => {
    const t = resolvePurgeTimes(new Date('2024-03-10T14:00:00.000Z'), new Date('2024-03-10T14:00:00.001Z'));
    expect(iso(t.currentHourStart)).toBe('2024-03-10T14:00:00.000Z');
    const u = resolvePurgeTimes(new Date('2024-03-10T14:00:00.001Z'), new Date('2024-03-10T13:59:59.999Z'));
    expect(iso(u.currentHourStart)).toBe('2024-03-10T13:00:00.000Z');
  });

  it('ignores an invalid database clock and keeps the host clock', () => {
    const t = resolvePurgeTimes(host, new Date(Number.NaN));
    expect(iso(t.now)).toBe(iso(host));
    expect(iso(t.currentHourStart)).toBe('2024-03-10T14:00:00.000Z');
  });
});

describe('startOfUtcHour', () => {
  it.each([
    ['2024-03-10T14:25:30.123Z', '2024-03-10T14:00:00.000Z'],
    ['2024-03-10T14:00:00.000Z', '2024-03-10T14:00:00.000Z'],
    ['2024-03-10T14:59:59.999Z', '2024-03-10T14:00:00.000Z'],
    ['1969-12-31T23:30:00.000Z', '1969-12-31T23:00:00.000Z'],
  ])('%s -> %s', (input, expected) => {
    expect(iso(startOfUtcHour(new Date(input)))).toBe(expected);
  });
});

describe('retentionCutoff on the UTC calendar', () => {
  const cut = (now: string, d: string) => iso(retentionCutoff(new Date(now), parseIsoDuration(d)!));

  it('PT36H is exactly 36 hours', () => {
    expect(cut('2024-03-10T14:25:00.000Z', 'PT36H')).toBe('2024-03-09T02:25:00.000Z');
  });

  it('PT36H across a European DST change is still 36 hours (no local time involved)', () => {
    expect(cut('2024-03-31T12:00:00.000Z', 'PT36H')).toBe('2024-03-30T00:00:00.000Z');
  });

  it('P7D is 7 calendar days, 168 hours in UTC', () => {
    expect(cut('2024-03-31T12:00:00.000Z', 'P7D')).toBe('2024-03-24T12:00:00.000Z');
  });

  it('P1M is one calendar month', () => {
    expect(cut('2024-03-15T10:00:00.000Z', 'P1M')).toBe('2024-02-15T10:00:00.000Z');
  });

  it('P1M from 31 March is the last day of February in a leap year', () => {
    expect(cut('2024-03-31T10:00:00.000Z', 'P1M')).toBe('2024-02-29T10:00:00.000Z');
  });

  it('P1M from 31 March is 28 February in a common year', () => {
    expect(cut('2023-03-31T10:00:00.000Z', 'P1M')).toBe('2023-02-28T10:00:00.000Z');
  });

  it('P1M from 1 January goes back to December of the previous year', () => {
    expect(cut('2024-01-01T00:30:00.000Z', 'P1M')).toBe('2023-12-01T00:30:00.000Z');
  });

  it('P1Y is one calendar year', () => {
    expect(cut('2024-03-10T14:25:00.000Z', 'P1Y')).toBe('2023-03-10T14:25:00.000Z');
  });

  it('P1Y from a leap day is 28 February of the previous year', () => {
    expect(cut('2024-02-29T12:00:00.000Z', 'P1Y')).toBe('2023-02-28T12:00:00.000Z');
  });

  it('does not depend on the process time zone', () => {
    const before = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(cut('2024-03-10T14:25:00.000Z', 'P1M')).toBe('2024-02-10T14:25:00.000Z');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('accepts a luxon Duration built from an object', () => {
    expect(iso(retentionCutoff(new Date('2024-03-10T14:25:00.000Z'), Duration.fromObject({ days: 1, hours: 2 })))).toBe('2024-03-09T12:25:00.000Z');
  });

  // luxon cannot go below about year -271821: such a retention must neither pass the config nor,
  // if it reached the cutoff anyway, produce an Invalid Date (decide() would then see every
  // comparison false).
  it('rejects a retention longer than 1000 years in the config (P300000Y, PT1000000000000H)', () => {
    expect(parseIsoDuration('P300000Y')).toBeUndefined();
    expect(parseIsoDuration('PT1000000000000H')).toBeUndefined();
    expect(parseIsoDuration('P1000Y')).toBeDefined();
  });

  it('gives a valid cutoff, earlier than any real upload, for a retention beyond the calendar', () => {
    const c = retentionCutoff(new Date('2024-03-10T14:25:00.000Z'), Duration.fromObject({ years: 300_000 }));
    expect(Number.isNaN(c.getTime())).toBe(false);
    expect(c.getTime()).toBeLessThan(new Date('1970-01-01T00:00:00Z').getTime());
  });
});
