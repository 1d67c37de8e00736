/**
 * Maintenance windows: when a workload may change, as people write it on a tag or an annotation
 * (`Mon-Fri 09:00-17:00 Europe/Berlin`, several separated by commas). Days and hours are wall-clock time in
 * the window's IANA time zone, so a window keeps its local hours across daylight saving changes.
 */

export class WindowError extends Error {
  constructor(
    readonly spec: string,
    readonly problem: string,
  ) {
    super(
      `invalid maintenance window "${spec}": ${problem} (expected e.g. "Mon-Fri 09:00-17:00 Europe/Berlin"; several separated by commas)`,
    );
    this.name = 'WindowError';
  }
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface MaintenanceWindow {
  /** Days (0 = Sunday) on which the window opens. */
  days: ReadonlySet<number>;
  /** Minutes after local midnight; `end <= start` runs past midnight into the next day. */
  start: number;
  end: number;
  timeZone: string;
  /** The window as written, for logs and hold reasons. */
  text: string;
}

function parseDay(word: string, spec: string): number {
  const i = DAYS.indexOf(word.slice(0, 3).toLowerCase() as (typeof DAYS)[number]);
  if (i < 0 || word.length < 3) throw new WindowError(spec, `"${word}" is not a day (Mon, Tue, ... Sun)`);
  return i;
}

function parseDays(field: string, spec: string): Set<number> {
  if (field === '*' || /^daily$/i.test(field)) return new Set([0, 1, 2, 3, 4, 5, 6]);
  const days = new Set<number>();
  for (const part of field.split('+')) {
    const [from, to, ...rest] = part.split('-');
    if (!from || rest.length > 0) throw new WindowError(spec, `"${field}" is not a day or a range of days`);
    const a = parseDay(from, spec);
    const b = to === undefined ? a : parseDay(to, spec);
    // Fri-Mon wraps over the weekend.
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return days;
}

function parseTime(text: string, spec: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  const h = Number(m?.[1]);
  const min = Number(m?.[2]);
  if (!m || h > 24 || min > 59 || (h === 24 && min !== 0))
    throw new WindowError(spec, `"${text}" is not a time of day (HH:MM, 00:00 to 24:00)`);
  return h * 60 + min;
}

function checkTimeZone(zone: string, spec: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new WindowError(spec, `"${zone}" is not an IANA time zone (e.g. Europe/Berlin, UTC)`);
  }
}

/** Parses one or several windows separated by commas; throws WindowError naming what is wrong. */
export function parseWindows(spec: string): MaintenanceWindow[] {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.every((p) => p === '')) throw new WindowError(spec, 'no window given');
  return parts.map((text) => {
    if (text === '') throw new WindowError(spec, 'an empty window between commas');
    const fields = text.split(/\s+/);
    if (fields.length !== 3)
      throw new WindowError(spec, `"${text}" should be three fields: days, hours and a time zone`);
    const [days, hours, zone] = fields as [string, string, string];
    const [from, to, ...rest] = hours.split('-');
    if (!from || !to || rest.length > 0) throw new WindowError(spec, `"${hours}" is not HH:MM-HH:MM`);
    const start = parseTime(from, spec);
    const end = parseTime(to, spec);
    if (start === end) throw new WindowError(spec, `"${hours}" opens and closes at the same time`);
    return { days: parseDays(days, spec), start, end, timeZone: checkTimeZone(zone, spec), text };
  });
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock day of the week and minute of the day at `at` in a time zone. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  let day = 0;
  let minute = 0;
  for (const p of f.formatToParts(at)) {
    if (p.type === 'weekday') day = DAYS.indexOf(p.value.toLowerCase() as (typeof DAYS)[number]);
    else if (p.type === 'hour') minute += Number(p.value) * 60;
    else if (p.type === 'minute') minute += Number(p.value);
  }
  return { day, minute };
}

/** Whether `at` falls inside one of the windows. */
export function inWindow(windows: readonly MaintenanceWindow[], at: Date): boolean {
  return windows.some((w) => {
    const { day, minute } = localTime(at, w.timeZone);
    if (w.end > w.start) return w.days.has(day) && minute >= w.start && minute < w.end;
    // Past midnight: the evening of a window day, or the small hours of the day after one.
    return (w.days.has(day) && minute >= w.start) || (w.days.has((day + 6) % 7) && minute < w.end);
  });
}

/**
 * The first minute at or after `from` inside a window (undefined: never within 8 days, which cannot happen
 * for a parsed window). Minute steps: windows open on whole minutes, and a DST jump is seen as it happens.
 */
export function nextOpening(windows: readonly MaintenanceWindow[], from: Date): Date | undefined {
  const start = Math.ceil(from.getTime() / 60_000) * 60_000;
  if (inWindow(windows, from)) return from;
  for (let t = start; t < start + 8 * 24 * 3600_000; t += 60_000) {
    if (inWindow(windows, new Date(t))) return new Date(t);
  }
  return undefined;
}
