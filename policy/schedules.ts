/**
 * Deployment schedule math: available-from / expires-at times and assignment schedules,
 * in UTC or the client's local time. Pure: every instant is epoch milliseconds passed in.
 *
 * Local time is a fixed offset. The client agent passes the offset its clock has *now*
 * (`clientOffsetMinutes`, UTC+offset); following daylight-saving changes is the client's job,
 * exactly as a ConfigMgr client re-evaluates its policy in its own time zone. Because the offset
 * is fixed, all calendar math happens in "wall" milliseconds (the wall-clock reading written as if
 * it were UTC) and is shifted back to an instant at the end.
 *
 * only full-OS clients evaluate schedules; Windows PE policy never calls into this module.
 */
import { invalid } from './errors.js';

/** A wall-clock time as the admin typed it: 'YYYY-MM-DDTHH:mm' or 'YYYY-MM-DDTHH:mm:ss', no zone. */
export interface ScheduleTime {
  readonly at: string;
  readonly utc: boolean;
}
export type Weekday = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';
export type WeekOfMonth = 'first' | 'second' | 'third' | 'fourth' | 'last';
export type IntervalUnit = 'minutes' | 'hours' | 'days';
export type AssignmentSchedule =
  | { kind: 'once'; start: ScheduleTime }
  | { kind: 'weekly'; start: ScheduleTime; everyWeeks: number; days: Weekday[] }
  | { kind: 'monthlyByDate'; start: ScheduleTime; everyMonths: number; day: number }
  | { kind: 'monthlyByWeekday'; start: ScheduleTime; everyMonths: number; week: WeekOfMonth; weekday: Weekday }
  | { kind: 'interval'; start: ScheduleTime; every: number; unit: IntervalUnit }
  | { kind: 'logon' }
  | { kind: 'logoff' }
  | { kind: 'asap' };

export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKS: readonly WeekOfMonth[] = ['first', 'second', 'third', 'fourth', 'last'];
const UNITS: readonly IntervalUnit[] = ['minutes', 'hours', 'days'];
const MINUTE = 60_000;
const DAY = 86_400_000;
const UNIT_MS: Record<IntervalUnit, number> = { minutes: MINUTE, hours: 60 * MINUTE, days: DAY };
/** Sanity bound on a custom interval so k·every·unit stays exact in a double. */
const MAX_INTERVAL = 1_000_000;
/** ISO 8601 / common zone databases never exceed ±18 h. */
const MAX_OFFSET_MINUTES = 18 * 60;
/** Keep a margin below Date's ±8.64e15 ms so one more period still has a calendar date. */
const MAX_INSTANT = 8.6e15;
const AT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

// ---------------------------------------------------------------- validation

type Obj = Record<string, unknown>;

function objectAt(x: unknown, field: string): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw invalid(`${field} must be an object`, field);
  return x as Obj;
}

function onlyKeys(o: Obj, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw invalid(`${field}.${key} is not a known field`, `${field}.${key}`);
  }
}

function intIn(o: Obj, key: string, min: number, max: number, field: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${field}.${key} must be an integer from ${min} to ${max}`, `${field}.${key}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, values: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw invalid(`${field} must be one of ${values.join(', ')}`, field);
  }
  return v as T;
}

const daysInMonth = (y: number, m0: number): number => new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate();

/** Wall milliseconds of a strictly valid `at`, or a reason it is not one. */
function parseAt(at: string): number | string {
  const m = AT_RE.exec(at);
  if (!m) return 'must look like YYYY-MM-DDTHH:mm or YYYY-MM-DDTHH:mm:ss';
  const [y, mo, d, h, mi] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (y === undefined || mo === undefined || d === undefined || h === undefined || mi === undefined) return 'is incomplete';
  if (y < 1900) return 'year must be 1900 or later';
  if (mo < 1 || mo > 12) return `has no month ${mo}`;
  if (d < 1 || d > daysInMonth(y, mo - 1)) return `is not a calendar date (${y}-${m[2]} has no day ${d})`;
  if (h > 23) return 'hours must be 00 to 23';
  if (mi > 59) return 'minutes must be 00 to 59';
  if (s > 59) return 'seconds must be 00 to 59';
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function wallOf(t: ScheduleTime, field = 'at'): number {
  const w = typeof t.at === 'string' ? parseAt(t.at) : 'must be a string';
  if (typeof w === 'string') throw invalid(`${field} ${w}`, field);
  return w;
}

export function validateScheduleTime(x: unknown, field: string): ScheduleTime {
  const o = objectAt(x, field);
  onlyKeys(o, ['at', 'utc'], field);
  if (typeof o.at !== 'string') throw invalid(`${field}.at must be a string`, `${field}.at`);
  if (typeof o.utc !== 'boolean') throw invalid(`${field}.utc must be true or false`, `${field}.utc`);
  const t = { at: o.at, utc: o.utc };
  wallOf(t, `${field}.at`);
  return t;
}

const KEYS: Record<AssignmentSchedule['kind'], readonly string[]> = {
  once: ['kind', 'start'],
  weekly: ['kind', 'start', 'everyWeeks', 'days'],
  monthlyByDate: ['kind', 'start', 'everyMonths', 'day'],
  monthlyByWeekday: ['kind', 'start', 'everyMonths', 'week', 'weekday'],
  interval: ['kind', 'start', 'every', 'unit'],
  logon: ['kind'],
  logoff: ['kind'],
  asap: ['kind'],
};

function validateDays(v: unknown, field: string): Weekday[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(`${field} must list at least one weekday`, field);
  const days: Weekday[] = [];
  v.forEach((d, i) => {
    const day = oneOf(d, WEEKDAYS, `${field}[${i}]`);
    if (days.includes(day)) throw invalid(`${field}[${i}] repeats ${day}`, `${field}[${i}]`);
    days.push(day);
  });
  return days;
}

export function validateAssignmentSchedule(x: unknown, field: string): AssignmentSchedule {
  const o = objectAt(x, field);
  const kind = oneOf(o.kind, Object.keys(KEYS) as AssignmentSchedule['kind'][], `${field}.kind`);
  onlyKeys(o, KEYS[kind], field);
  if (kind === 'logon' || kind === 'logoff' || kind === 'asap') return { kind };
  const start = validateScheduleTime(o.start, `${field}.start`);
  switch (kind) {
    case 'once':
      return { kind, start };
    case 'weekly':
      return { kind, start, everyWeeks: intIn(o, 'everyWeeks', 1, 4, field), days: validateDays(o.days, `${field}.days`) };
    case 'monthlyByDate':
      return { kind, start, everyMonths: intIn(o, 'everyMonths', 1, 12, field), day: intIn(o, 'day', 0, 31, field) };
    case 'monthlyByWeekday':
      return {
        kind,
        start,
        everyMonths: intIn(o, 'everyMonths', 1, 12, field),
        week: oneOf(o.week, WEEKS, `${field}.week`),
        weekday: oneOf(o.weekday, WEEKDAYS, `${field}.weekday`),
      };
    case 'interval':
      return { kind, start, every: intIn(o, 'every', 1, MAX_INTERVAL, field), unit: oneOf(o.unit, UNITS, `${field}.unit`) };
  }
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || Math.abs(offset) > MAX_OFFSET_MINUTES) {
    throw invalid(`clientOffsetMinutes must be an integer from -${MAX_OFFSET_MINUTES} to ${MAX_OFFSET_MINUTES}`, 'clientOffsetMinutes');
  }
}

function checkInstant(t: number, field: string): void {
  if (!Number.isFinite(t) || Math.abs(t) > MAX_INSTANT) throw invalid(`${field} must be epoch milliseconds`, field);
}

// ---------------------------------------------------------------- instants

/** The instant a ScheduleTime means for a client whose local clock is UTC+offsetMinutes (utc:true ignores the offset). */
export function toInstant(t: ScheduleTime, clientOffsetMinutes: number): number {
  checkOffset(clientOffsetMinutes);
  return wallOf(t) - (t.utc ? 0 : clientOffsetMinutes * MINUTE);
}

type TimedSchedule = Exclude<AssignmentSchedule, { kind: 'logon' | 'logoff' | 'asap' }>;

/**
 * Weekly and monthly schedules repeat in cycles counted from the start: a cycle is N weeks
 * (occurrences only in its first week) or N months (one occurrence). `cycleOf` finds the cycle
 * holding a wall time in O(1), so no schedule is ever walked occurrence by occurrence.
 */
interface Cycles {
  cycleOf(wall: number): number;
  /** Wall times of cycle c's occurrences, ascending, start filter not applied. */
  occurrences(c: number): number[];
}

const dayOf = (wall: number): number => Math.floor(wall / DAY);
const weekdayOfDay = (day: number): number => (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
const monthIndexOf = (wall: number): number => {
  const d = new Date(wall);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

/** Day of month (1-based) a monthly schedule falls on in month m0 of year y. */
function monthlyDay(s: TimedSchedule & { kind: 'monthlyByDate' | 'monthlyByWeekday' }, y: number, m0: number): number {
  const last = daysInMonth(y, m0);
  // Day 31 in a 30-day month (or 29..31 in February) runs on the month's last day, as does day 0.
  if (s.kind === 'monthlyByDate') return s.day === 0 ? last : Math.min(s.day, last);
  const want = WEEKDAYS.indexOf(s.weekday);
  if (s.week === 'last') return last - ((weekdayOfDay(dayOf(Date.UTC(y, m0, last))) - want + 7) % 7);
  const first = 1 + ((want - weekdayOfDay(dayOf(Date.UTC(y, m0, 1))) + 7) % 7);
  return first + 7 * WEEKS.indexOf(s.week);
}

function cyclesOf(s: TimedSchedule & { kind: 'weekly' | 'monthlyByDate' | 'monthlyByWeekday' }, startWall: number): Cycles {
  const tod = startWall - dayOf(startWall) * DAY;
  if (s.kind === 'weekly') {
    const startDay = dayOf(startWall);
    const weekStart = startDay - weekdayOfDay(startDay); // weeks start on Sunday, as in ConfigMgr
    const span = 7 * s.everyWeeks;
    const offsets = s.days.map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b);
    return {
      cycleOf: (wall) => Math.floor((dayOf(wall) - weekStart) / span),
      occurrences: (c) => offsets.map((o) => (weekStart + c * span + o) * DAY + tod),
    };
  }
  const startMonth = monthIndexOf(startWall);
  return {
    cycleOf: (wall) => Math.floor((monthIndexOf(wall) - startMonth) / s.everyMonths),
    occurrences: (c) => {
      const mi = startMonth + c * s.everyMonths;
      const y = Math.floor(mi / 12);
      const m0 = mi - y * 12;
      return [Date.UTC(y, m0, monthlyDay(s, y, m0)) + tod];
    },
  };
}

/** Latest occurrence (wall ms) at or before `wall`; the start is the earliest possible one. */
function latestWall(s: TimedSchedule, wall: number, startWall: number): number | null {
  if (wall < startWall) return null;
  if (s.kind === 'once') return startWall;
  if (s.kind === 'interval') {
    const period = s.every * UNIT_MS[s.unit];
    return startWall + Math.floor((wall - startWall) / period) * period;
  }
  const cycles = cyclesOf(s, startWall);
  const k = cycles.cycleOf(wall);
  // Every occurrence of cycle k-1 precedes cycle k's first day, which is <= wall.
  for (const c of [k, k - 1]) {
    if (c < 0) break;
    const hits = cycles.occurrences(c).filter((w) => w >= startWall && w <= wall);
    if (hits.length > 0) return hits[hits.length - 1]!;
  }
  return null;
}

/** First occurrence (wall ms) strictly after `wall`. */
function nextWall(s: TimedSchedule, wall: number, startWall: number): number | null {
  if (wall < startWall) {
    if (s.kind === 'once' || s.kind === 'interval') return startWall;
  } else if (s.kind === 'once') {
    return null;
  }
  if (s.kind === 'interval') {
    const period = s.every * UNIT_MS[s.unit];
    return startWall + (Math.floor((wall - startWall) / period) + 1) * period;
  }
  const cycles = cyclesOf(s, startWall);
  const k = Math.max(0, cycles.cycleOf(wall));
  // Cycle k+1 lies wholly after `wall` and after the start, so one of these two answers.
  for (const c of [k, k + 1]) {
    const hit = cycles.occurrences(c).find((w) => w >= startWall && w > wall);
    if (hit !== undefined) return hit;
  }
  return null;
}

function evaluate(
  s: AssignmentSchedule,
  t: number,
  field: string,
  offset: number,
  pick: (s: TimedSchedule, wall: number, startWall: number) => number | null,
): number | null {
  checkInstant(t, field);
  checkOffset(offset);
  if (s.kind === 'logon' || s.kind === 'logoff' || s.kind === 'asap') return null;
  const shift = s.start.utc ? 0 : offset * MINUTE;
  const found = pick(s, t + shift, wallOf(s.start, 'start.at'));
  return found === null ? null : found - shift;
}

/** Latest occurrence at or before `now` of a time-based schedule (once, weekly, monthly, interval); null if none yet, or for event kinds. */
export function latestOccurrence(s: AssignmentSchedule, now: number, clientOffsetMinutes: number): number | null {
  return evaluate(s, now, 'now', clientOffsetMinutes, latestWall);
}

/** First occurrence strictly after `after`; null if none (a past 'once', or event kinds). */
export function nextOccurrence(s: AssignmentSchedule, after: number, clientOffsetMinutes: number): number | null {
  return evaluate(s, after, 'after', clientOffsetMinutes, nextWall);
}

// ---------------------------------------------------------------- description

const label = (d: Weekday): string => d.charAt(0).toUpperCase() + d.slice(1);

function describeTime(t: ScheduleTime): string {
  return `${t.at.replace('T', ' ').replace(/^(.{16}):00$/, '$1')} (${t.utc ? 'UTC' : 'local'})`;
}

const every = (n: number, unit: string): string => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);

/** Human text, e.g. "every 2 weeks on Mon, Thu from 2026-01-05 08:00 (local)". */
export function describeSchedule(s: AssignmentSchedule): string {
  switch (s.kind) {
    case 'logon':
      return 'at user logon';
    case 'logoff':
      return 'at user logoff';
    case 'asap':
      return 'as soon as possible';
    case 'once':
      return `once at ${describeTime(s.start)}`;
    case 'weekly': {
      const days = [...s.days].sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b)).map(label);
      return `${every(s.everyWeeks, 'week')} on ${days.join(', ')} from ${describeTime(s.start)}`;
    }
    case 'monthlyByDate': {
      const on = s.day === 0 ? 'the last day' : s.day > 28 ? `day ${s.day} (or the last day of shorter months)` : `day ${s.day}`;
      return `${every(s.everyMonths, 'month')} on ${on} from ${describeTime(s.start)}`;
    }
    case 'monthlyByWeekday':
      return `${every(s.everyMonths, 'month')} on the ${s.week} ${label(s.weekday)} from ${describeTime(s.start)}`;
    case 'interval':
      return `${every(s.every, s.unit.slice(0, -1))} from ${describeTime(s.start)}`;
  }
}
