/**
 * EventBridge schedule expressions, in UTC as EventBridge rules run them:
 * - `rate(N minute|minutes|hour|hours|day|days)`: every N units after the rule starts;
 * - `cron(minutes hours day-of-month month day-of-week year)`: numbers, `*`, `?`, lists `a,b`, ranges `a-b`,
 *   steps `a/n` and `*\/n`, month names JAN-DEC, day names SUN-SAT (1 = SUN as in AWS), `L` (last day of the
 *   month), `nL`/`DAYL` (last such weekday of the month) and `DAY#n` (nth such weekday). Not supported: `W`
 *   (nearest weekday), which fails loudly at start rather than firing at the wrong time.
 * As AWS requires, one of day-of-month and day-of-week is `?`.
 */

export interface Schedule {
  expression: string;
  /** The first time strictly after `from` at which the schedule fires. */
  next(from: Date): Date;
}

export class ScheduleExpressionError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`schedule ${expression}: ${reason}`);
    this.name = 'ScheduleExpressionError';
  }
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  const rate = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(text);
  if (rate) {
    const every = Number(rate[1]) * (UNIT_MS[(rate[2] as string).replace(/s$/, '')] as number);
    if (every <= 0) throw new ScheduleExpressionError(expression, 'a rate is a positive number of units');
    return { expression, next: (from) => new Date(from.getTime() + every) };
  }
  const cron = /^cron\((.+)\)$/.exec(text);
  if (!cron) {
    throw new ScheduleExpressionError(expression, 'expected rate(N minutes|hours|days) or cron(6 fields)');
  }
  return cronSchedule(expression, cron[1] as string);
}

/** Kept for callers that only want the next time. */
export function nextFire(expression: string, from: Date): Date {
  return parseSchedule(expression).next(from);
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

type DayTest = (date: Date) => boolean;

function cronSchedule(expression: string, body: string): Schedule {
  const fail = (reason: string) => new ScheduleExpressionError(expression, reason);
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw fail('cron has 6 fields: minutes hours day-of-month month day-of-week year');
  const [minF, hourF, domF, monthF, dowF, yearF] = fields as [string, string, string, string, string, string];
  if ((domF === '?') === (dowF === '?')) throw fail('exactly one of day-of-month and day-of-week must be ?');
  const minute = numbers(minF, 0, 59, [], fail);
  const hour = numbers(hourF, 0, 23, [], fail);
  const month = numbers(monthF, 1, 12, MONTHS, fail);
  const year = numbers(yearF, 1970, 2199, [], fail);
  const day: DayTest = domF === '?' ? dayOfWeek(dowF, fail) : dayOfMonth(domF, fail);

  return {
    expression,
    next(from) {
      // Walk forward minute by minute, but skip whole years, months, days and hours that cannot match.
      const t = new Date(Math.floor(from.getTime() / 60_000) * 60_000 + 60_000);
      const limit = t.getTime() + 5 * 366 * 86_400_000;
      while (t.getTime() <= limit) {
        if (!year(t.getUTCFullYear())) {
          t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!month(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!day(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0, 0);
        } else if (!hour(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
        } else if (!minute(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
        } else {
          return new Date(t);
        }
      }
      throw fail('never fires in the next five years');
    },
  };
}

/** A field of plain values: `*`, lists, ranges, steps and names. */
function numbers(
  field: string,
  lo: number,
  hi: number,
  names: string[],
  fail: (reason: string) => ScheduleExpressionError,
): (n: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    const n = named >= 0 ? named + lo : Number(text);
    if (!Number.isInteger(n) || n < lo || n > hi) throw fail(`${JSON.stringify(text)} is not in ${lo}-${hi}`);
    return n;
  };
  const tests = field.split(',').map((part) => {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw fail(`bad step in ${JSON.stringify(part)}`);
    let from = lo;
    let to = hi;
    if (range !== '*') {
      const [a = '', b] = range.split('-');
      from = value(a);
      to = b === undefined ? (stepText === undefined ? from : hi) : value(b);
    }
    return (n: number) => n >= from && n <= to && (n - from) % step === 0;
  });
  return (n) => tests.some((t) => t(n));
}

const daysInMonth = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();

function dayOfMonth(field: string, fail: (reason: string) => ScheduleExpressionError): DayTest {
  if (field.toUpperCase() === 'L') return (d) => d.getUTCDate() === daysInMonth(d);
  if (/W/i.test(field)) throw fail('W (nearest weekday) is not supported by the local router');
  const test = numbers(field, 1, 31, [], fail);
  return (d) => test(d.getUTCDate());
}

function dayOfWeek(field: string, fail: (reason: string) => ScheduleExpressionError): DayTest {
  const weekday = (text: string): number => {
    const named = DAYS.indexOf(text.toUpperCase());
    const n = named >= 0 ? named + 1 : Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 7)
      throw fail(`${JSON.stringify(text)} is not a day of the week`);
    return n;
  };
  // AWS numbers days 1 (SUN) to 7 (SAT); getUTCDay() is 0 (SUN) to 6.
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const wd = weekday(nth[1] as string);
    const n = Number(nth[2]);
    return (d) => d.getUTCDay() + 1 === wd && Math.ceil(d.getUTCDate() / 7) === n;
  }
  const last = /^(\w+?)L$/i.exec(field);
  if (last) {
    const wd = weekday(last[1] as string);
    return (d) => d.getUTCDay() + 1 === wd && d.getUTCDate() + 7 > daysInMonth(d);
  }
  const test = numbers(field, 1, 7, DAYS, fail);
  return (d) => test(d.getUTCDay() + 1);
}
