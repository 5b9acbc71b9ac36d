import { daysInMonth, instantMillis, isCalendarDate } from './calendar.js';

describe('calendar dates and instants', () => {
  it.each([
    [2028, 2, 29],
    [2026, 2, 28],
    [2000, 2, 29],
    [1900, 2, 28],
    [2100, 2, 28],
    [2400, 2, 29],
    [2026, 4, 30],
    [2026, 12, 31],
  ])('%d-%d has %d days', (year, month, days) => {
    expect(daysInMonth(year, month)).toBe(days);
  });

  it('refuses a month that does not exist rather than guessing its length', () => {
    expect(() => daysInMonth(2026, 13)).toThrow(RangeError);
    expect(() => daysInMonth(2026, 0)).toThrow(RangeError);
  });

  it.each(['2028-02-29', '2000-02-29', '2026-02-28', '2026-04-30', '2026-12-31', '1900-01-01', '9999-12-31'])(
    'takes %s',
    (text) => {
      expect(isCalendarDate(text)).toBe(true);
    },
  );

  it.each([
    ['2026-02-29', 'not a leap year'],
    ['1900-02-29', 'a century not divisible by 400'],
    ['2026-02-31', 'February'],
    ['2026-04-31', 'a 30-day month'],
    ['2026-13-01', 'month 13'],
    ['2026-00-10', 'month 0'],
    ['2026-01-00', 'day 0'],
    ['2026-1-5', 'not zero-padded'],
    ['2026-01-5', 'day not zero-padded'],
    ['26-01-05', 'two-digit year'],
    ['1899-12-31', 'before 1900'],
    ['2026-01-05T00:00:00Z', 'an instant, not a date'],
    [' 2026-01-05', 'a leading space'],
    ['2026-01-05\n', 'a trailing newline'],
  ])('refuses %s (%s)', (text) => {
    expect(isCalendarDate(text)).toBe(false);
  });

  it('refuses what is not a string', () => {
    expect(isCalendarDate(20260105)).toBe(false);
    expect(isCalendarDate(null)).toBe(false);
    expect(isCalendarDate(new Date(Date.UTC(2026, 0, 5)))).toBe(false);
  });

  it('reads instants strictly: zone required, real calendar days, milliseconds at most', () => {
    expect(instantMillis('2026-01-05T08:00:00Z')).toBe(Date.UTC(2026, 0, 5, 8));
    expect(instantMillis('2026-01-05T09:30:00.250+01:30')).toBe(Date.UTC(2026, 0, 5, 8, 0, 0, 250));
    expect(instantMillis('2026-01-05T03:00:00.5-05:00')).toBe(Date.UTC(2026, 0, 5, 8, 0, 0, 500));
    expect(instantMillis('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(instantMillis('2028-02-29T23:59:59Z')).toBe(Date.UTC(2028, 1, 29, 23, 59, 59));
    for (const bad of [
      '2026-02-29T00:00:00Z',
      '2026-02-31T00:00:00Z',
      '2026-04-31T12:00:00+02:00',
      '2026-01-05T24:00:00Z',
      '2026-01-05T08:00:60Z',
      '2026-01-05T08:00:00',
      '2026-01-05T08:00Z',
      '2026-01-05T08:00:00.1234Z',
      '2026-01-05T08:00:00+15:00',
      '1899-12-31T23:59:59Z',
    ]) {
      expect(instantMillis(bad)).toBeNaN();
    }
  });
});
