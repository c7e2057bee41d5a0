// Cron schedules as the CronJob controller reads them (robfig/cron v3's ParseStandard): five
// fields (minute hour day-of-month month day-of-week) with lists, ranges, steps, `*`/`?`, month
// and weekday names, and the descriptors @yearly @annually @monthly @weekly @daily @midnight
// @hourly and `@every <duration>`. Parse errors are worded as robfig words them, since
// kube-apiserver puts them verbatim under `spec.schedule`.
import { zonedParts, type ZonedParts } from './zonedTime.js';

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTE: Bounds = { min: 0, max: 59 };
const HOUR: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTH: Bounds = {
  min: 1,
  max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronParseError extends Error {
  readonly code = 'CRON_SCHEDULE_INVALID';
}

/** A field: the allowed values, and whether it was a plain `*` (day matching depends on it). */
interface Field {
  values: Set<number>;
  star: boolean;
}

export type CronSchedule =
  | { kind: 'fields'; minute: Field; hour: Field; dom: Field; month: Field; dow: Field }
  | { kind: 'every'; everyMs: number };

function parseInt10(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr))
    throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing "${expr}": invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

const intOrName = (expr: string, b: Bounds): number => b.names?.[expr.toLowerCase()] ?? parseInt10(expr);

function parseRange(expr: string, b: Bounds, into: Set<number>): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number, end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    [start, end, star] = [b.min, b.max, true];
  } else {
    start = intOrName(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = intOrName(lowAndHigh[1]!, b);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new CronParseError(`too many slashes: ${expr}`);
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.add(v);
  return star;
}

function parseField(text: string, b: Bounds): Field {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) star = parseRange(part, b, values) || star;
  return { values, star };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, for `@every 1h30m`. */
function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0,
    pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (!text || pos !== text.length)
    throw new CronParseError(`failed to parse duration @every ${text}: time: invalid duration "${text}"`);
  return ms;
}

/** ParseStandard. Time zone prefixes (TZ=, CRON_TZ=) are refused by validation before this. */
export function parseCron(spec: string): CronSchedule {
  const text = spec.trim();
  if (text === '') throw new CronParseError('empty spec string');
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      // robfig rounds an interval below a second up to one second.
      return { kind: 'every', everyMs: Math.max(1000, Math.floor(parseDuration(text.slice(7).trim()) / 1000) * 1000) };
    }
    const fields = DESCRIPTORS[text];
    if (!fields) throw new CronParseError(`unrecognized descriptor: ${text}`);
    return parseCron(fields);
  }
  const f = text.split(/\s+/);
  if (f.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${f.length}: [${f.join(' ')}]`);
  const dow = parseField(f[4]!, DOW);
  return {
    kind: 'fields',
    minute: parseField(f[0]!, MINUTE),
    hour: parseField(f[1]!, HOUR),
    dom: parseField(f[2]!, DOM),
    month: parseField(f[3]!, MONTH),
    dow,
  };
}

/** The day matches as cron's rule has it: both fields when either is `*`, else either one. */
function dayMatches(s: Extract<CronSchedule, { kind: 'fields' }>, p: ZonedParts): boolean {
  const dom = s.dom.values.has(p.day);
  const dow = s.dow.values.has(p.weekday);
  return s.dom.star || s.dow.star ? dom && dow : dom || dow;
}

const MINUTE_MS = 60_000;

/** The first activation strictly after `after` in `timeZone` (IANA; undefined is UTC, the
 *  sandbox's process zone), or undefined if none within five years (an impossible date). */
export function nextActivation(s: CronSchedule, after: Date, timeZone?: string): Date | undefined {
  if (s.kind === 'every') return new Date(Math.floor((after.getTime() + s.everyMs) / 1000) * 1000);
  let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const limit = t + 5 * 366 * 24 * 60 * MINUTE_MS;
  while (t < limit) {
    const p = zonedParts(new Date(t), timeZone);
    // Skip ahead by the coarsest field that does not match; the wall clock is re-read each
    // time, so daylight-saving jumps only cost an extra turn.
    if (!s.month.values.has(p.month))
      t += ((daysInMonth(p) - p.day) * 1440 + (23 - p.hour) * 60 + (60 - p.minute)) * MINUTE_MS;
    else if (!dayMatches(s, p)) t += ((23 - p.hour) * 60 + (60 - p.minute)) * MINUTE_MS;
    else if (!s.hour.values.has(p.hour)) t += (60 - p.minute) * MINUTE_MS;
    else if (!s.minute.values.has(p.minute)) t += MINUTE_MS;
    else return new Date(t);
  }
  return undefined;
}

function daysInMonth(p: ZonedParts): number {
  return new Date(Date.UTC(p.year, p.month, 0)).getUTCDate();
}
