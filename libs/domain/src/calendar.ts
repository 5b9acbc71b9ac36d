/**
 * Calendar dates and instants, read strictly: one definition for every boundary that takes one (the bridge's
 * device list, the API's request DTOs, ingest, EPCIS ILMD, GS1 and label dates), so that what one accepts the
 * next never refuses. A bridge that took `2026-02-31` as a calibration date saw every batch of that logger
 * refused by ingest and dead-lettered.
 *
 * Proleptic Gregorian calendar (ISO 8601). Years from EARLIEST_YEAR: an earlier year on a calibration, an
 * expiry or a reading is a typing error or a reset device clock, never a record. `Date.parse`/`new Date` are
 * not used to check: they roll `2026-02-31` over to March and read `24:00` as the next day, both of which
 * PostgreSQL refuses or reads differently (EU GMP Annex 11 §5: built-in checks on data entered).
 */

const EARLIEST_YEAR = 1900;
const LATEST_YEAR = 9999;

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/**
 * RFC 3339 `date-time`: a zone is mandatory (a time without one has no place on the timeline); seconds
 * required; at most millisecond precision, so that every accepted instant is exactly a JavaScript Date.
 */
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Days in a month of the Gregorian calendar (month 1–12).
 *
 * @throws RangeError for a month outside 1–12: callers check the month first, and name the field doing so
 */
export function daysInMonth(year: number, month: number): number {
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError(`month must be 1 to 12, got ${month}`);
  }
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDay(year: number, month: number, day: number): boolean {
  return (
    year >= EARLIEST_YEAR &&
    year <= LATEST_YEAR &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/**
 * `YYYY-MM-DD`, zero-padded, naming a day that exists (29 February only in a leap year). Not a type guard on
 * purpose: a string that fails is still a string, to be named in the refusal.
 */
export function isCalendarDate(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = CALENDAR_DATE.exec(value);
  return m !== null && isDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Epoch milliseconds of an RFC 3339 instant with its zone (offsets up to ±14:59), or NaN. */
export function instantMillis(value: string): number {
  const m = INSTANT.exec(value);
  if (!m) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (!isDay(year, month, day)) return Number.NaN;
  // No leap second: a JavaScript Date and PostgreSQL's timestamptz have no :60.
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return Number.NaN;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * 60_000;
}
