import { ProblemCode } from '@lyotrace/contracts';
import { daysInMonth } from '../calendar.js';
import { gs1Refusal } from './gs1-refusal.js';

/**
 * GS1 General Specifications §7.12: a YYMMDD year is placed in the century that puts it nearest the current
 * year, with the window biased to the future — more than 50 years ahead means the previous century, more
 * than 49 years behind means the next one.
 */
export function resolveGs1Year(yy: number, currentYear: number): number {
  const century = currentYear - (currentYear % 100);
  const difference = yy - (currentYear % 100);
  if (difference > 50) return century - 100 + yy;
  if (difference < -49) return century + 100 + yy;
  return century + yy;
}

/**
 * How an AI reads DD = 00, "day not specified" (GS1 Barcode Syntax Dictionary linter `yymmd0`): as the last
 * day of the month, as the first, or not at all (`undefined`: DD must be a real day).
 */
export type Gs1DayZero = 'last-day-of-month' | 'first-day-of-month';

export interface Gs1DateRules {
  ai: string;
  dayZero?: Gs1DayZero;
  position?: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * YYMMDD (digits already checked) → ISO `YYYY-MM-DD`.
 *
 * @param resolveYear maps YY to a full year (the sliding window when reading a scan)
 * @throws DomainError GS1_DATE naming the AI: month outside 01–12, day outside the month (29 February only in a
 *   leap year of the resolved century), DD = 00 where the AI does not allow it
 */
export function gs1DateToIso(
  value: string,
  resolveYear: (yy: number) => number,
  rules: Gs1DateRules,
): string {
  const yy = Number(value.slice(0, 2));
  const month = Number(value.slice(2, 4));
  const day = Number(value.slice(4, 6));
  const where = { ai: rules.ai, ...(rules.position === undefined ? {} : { position: rules.position }) };
  if (month < 1 || month > 12) {
    throw gs1Refusal(
      ProblemCode.Gs1Date,
      `(${rules.ai}) month must be 01 to 12, got ${pad(month, 2)}`,
      where,
    );
  }
  const year = resolveYear(yy);
  const last = daysInMonth(year, month);
  if (day === 0) {
    if (rules.dayZero === undefined) {
      throw gs1Refusal(ProblemCode.Gs1Date, `(${rules.ai}) day must be 01 to ${last}, got 00`, where);
    }
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(rules.dayZero === 'last-day-of-month' ? last : 1, 2)}`;
  }
  if (day > last) {
    throw gs1Refusal(
      ProblemCode.Gs1Date,
      `(${rules.ai}) day must be 01 to ${last} for ${pad(year, 4)}-${pad(month, 2)}, got ${pad(day, 2)}`,
      where,
    );
  }
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}
