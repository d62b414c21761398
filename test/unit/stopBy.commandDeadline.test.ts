import { describe, expect, it } from 'vitest';
import { commandDeadline, parseMaxDuration, parseUntil } from '../../src/cli/stopBy.js';

const now = new Date('2026-03-28T22:30:00Z'); // 23:30 in Berlin (CET), the night the clocks go forward

describe('--until and --max-duration', () => {
  it('HH:MM is the next such time in the zone, across a clock change', () => {
    // 05:00 on 29 March is CEST (+02:00): 03:00Z.
    expect(parseUntil('05:00', 'Europe/Berlin', now)).toEqual(new Date('2026-03-29T03:00:00Z'));
    // 23:45 today has not passed yet.
    expect(parseUntil('23:45', 'Europe/Berlin', now)).toEqual(new Date('2026-03-28T22:45:00Z'));
    // 23:00 has: tomorrow's (CEST).
    expect(parseUntil('23:00', 'Europe/Berlin', now)).toEqual(new Date('2026-03-29T21:00:00Z'));
    expect(parseUntil('05:00', 'UTC', now)).toEqual(new Date('2026-03-29T05:00:00Z'));
  });

  it('an ISO date and time needs its offset and must lie ahead', () => {
    expect(parseUntil('2026-03-29T01:00:00+01:00', 'UTC', now)).toEqual(new Date('2026-03-29T00:00:00Z'));
    expect(() => parseUntil('2026-03-29T01:00:00', 'UTC', now)).toThrow(/with offset/);
    expect(() => parseUntil('tomorrow', 'UTC', now)).toThrow(/--until "tomorrow" is not a time/);
    expect(() => parseUntil('2026-03-28T22:00:00Z', 'UTC', now)).toThrow(/already passed/);
  });

  it('durations: ISO-8601 or short', () => {
    expect(parseMaxDuration('PT2H')).toBe(7_200_000);
    expect(parseMaxDuration('90m')).toBe(5_400_000);
    expect(parseMaxDuration('45s')).toBe(45_000);
    expect(() => parseMaxDuration('two hours')).toThrow(/--max-duration "two hours"/);
    expect(() => parseMaxDuration('0m')).toThrow(/not a duration/);
  });

  it('the earlier of the two wins, and says which', () => {
    expect(commandDeadline({ until: '23:45', maxDuration: 'PT1H' }, 'Europe/Berlin', now)).toEqual({ at: new Date('2026-03-28T22:45:00Z'), reason: 'until' });
    expect(commandDeadline({ until: '05:00', maxDuration: '10m' }, 'Europe/Berlin', now)).toEqual({ at: new Date('2026-03-28T22:40:00Z'), reason: 'max-duration' });
    expect(commandDeadline({}, 'UTC', now)).toBeUndefined();
  });
});
