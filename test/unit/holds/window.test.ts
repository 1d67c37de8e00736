/** Maintenance windows: parsing with errors that say what is wrong, and evaluation in the window's time zone. */
import { describe, expect, it } from 'vitest';
import { inWindow, nextOpening, parseWindows } from '../../../shared/holds/window';

const at = (iso: string) => new Date(iso);

describe('parseWindows', () => {
  it.each([
    ['Mon-Fri 09:00-17:00', /three fields: days, hours and a time zone/],
    ['Mon-Fri 09:00-17:00 Europe/Berln', /"Europe\/Berln" is not an IANA time zone/],
    ['Mon-Fry 09:00-17:00 UTC', /"Fry" is not a day/],
    ['Mon-Fri 9-17 UTC', /"9-17" is not HH:MM-HH:MM|"9" is not a time of day/],
    ['Mon-Fri 09:00-25:00 UTC', /"25:00" is not a time of day/],
    ['Mon 10:00-10:00 UTC', /opens and closes at the same time/],
    ['Mon-Fri 09:00-17:00 UTC,', /an empty window between commas/],
    ['', /no window given/],
  ])('%j is refused: %s', (spec, problem) => {
    expect(() => parseWindows(spec)).toThrow(problem);
    expect(() => parseWindows(spec)).toThrow(/invalid maintenance window/);
  });

  it('reads several windows, day ranges that wrap and a list of days', () => {
    const windows = parseWindows('Fri-Mon 22:00-02:00 UTC, Tue+Thu 12:00-13:00 America/New_York');
    expect(windows).toHaveLength(2);
    expect([...(windows[0]?.days ?? [])].sort()).toEqual([0, 1, 5, 6]);
    expect([...(windows[1]?.days ?? [])].sort()).toEqual([2, 4]);
    expect(windows[1]?.timeZone).toBe('America/New_York');
  });
});

describe('inWindow', () => {
  const berlin = parseWindows('Mon-Fri 09:00-17:00 Europe/Berlin');

  it.each([
    // Winter: Berlin is UTC+1.
    ['2026-01-14T07:59:00Z', false], // Wed 08:59 in Berlin
    ['2026-01-14T08:00:00Z', true], // Wed 09:00
    ['2026-01-14T15:59:00Z', true], // Wed 16:59
    ['2026-01-14T16:00:00Z', false], // Wed 17:00: the end is not in the window
    ['2026-01-17T10:00:00Z', false], // Saturday
    // Summer: UTC+2, the same local hours are an hour earlier in UTC.
    ['2026-07-15T07:00:00Z', true], // Wed 09:00 CEST
    ['2026-07-15T15:00:00Z', false], // Wed 17:00 CEST
  ])('Mon-Fri 09:00-17:00 Europe/Berlin at %s: %s', (time, inside) => {
    expect(inWindow(berlin, at(time))).toBe(inside);
  });

  it('keeps local hours across the spring DST change (Berlin, 29 March 2026)', () => {
    const nights = parseWindows('Sun 01:00-04:00 Europe/Berlin');
    // 01:30 CET = 00:30Z; at 02:00 local the clock jumps to 03:00; 03:30 CEST = 01:30Z.
    expect(inWindow(nights, at('2026-03-29T00:30:00Z'))).toBe(true);
    expect(inWindow(nights, at('2026-03-29T01:30:00Z'))).toBe(true);
    expect(inWindow(nights, at('2026-03-29T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('a window past midnight covers the small hours of the next day only after a window day', () => {
    const late = parseWindows('Fri 22:00-02:00 UTC');
    expect(inWindow(late, at('2026-01-16T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(inWindow(late, at('2026-01-17T01:59:00Z'))).toBe(true); // Sat 01:59
    expect(inWindow(late, at('2026-01-17T02:00:00Z'))).toBe(false);
    expect(inWindow(late, at('2026-01-16T01:00:00Z'))).toBe(false); // Fri 01:00: Thursday is no window day
  });

  it('the same instant is inside one time zone and outside another', () => {
    const instant = at('2026-01-14T20:00:00Z'); // 21:00 in Berlin, 15:00 in New York
    expect(inWindow(parseWindows('Mon-Fri 09:00-17:00 Europe/Berlin'), instant)).toBe(false);
    expect(inWindow(parseWindows('Mon-Fri 09:00-17:00 America/New_York'), instant)).toBe(true);
    expect(
      inWindow(
        parseWindows('Mon-Fri 09:00-17:00 Europe/Berlin, Mon-Fri 09:00-17:00 America/New_York'),
        instant,
      ),
    ).toBe(true);
  });
});

describe('nextOpening', () => {
  it('is the next local opening, in UTC, over a weekend', () => {
    const berlin = parseWindows('Mon-Fri 09:00-17:00 Europe/Berlin');
    expect(nextOpening(berlin, at('2026-01-16T18:00:00Z'))?.toISOString()).toBe('2026-01-19T08:00:00.000Z');
  });

  it('is now inside the window', () => {
    const utc = parseWindows('Mon-Sun 00:00-24:00 UTC');
    expect(nextOpening(utc, at('2026-01-16T18:00:30Z'))?.toISOString()).toBe('2026-01-16T18:00:30.000Z');
  });
});
