import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { gs1DateToIso, resolveGs1Year } from './gs1-date.js';

describe('GS1 dates (GS1 General Specifications §7.12)', () => {
  describe('resolveGs1Year: the sliding window', () => {
    it.each([
      // Up to 50 years ahead stays in this century; 51 ahead goes back one.
      [2026, 76, 2076],
      [2026, 77, 1977],
      // Up to 49 years behind stays; 50 behind goes forward one.
      [2075, 26, 2026],
      [2075, 25, 2125],
      [2026, 26, 2026],
      [2000, 50, 2050],
      [2000, 51, 1951],
      [2099, 49, 2149],
      [2099, 50, 2050],
      [2100, 0, 2100],
      [2100, 51, 2051],
    ])('in %d, YY %d is %d', (current, yy, year) => {
      expect(resolveGs1Year(yy, current)).toBe(year);
    });

    it('keeps every year within −49…+50 of the current one', () => {
      for (let current = 1990; current <= 2150; current++) {
        for (let yy = 0; yy < 100; yy++) {
          const difference = resolveGs1Year(yy, current) - current;
          expect(difference).toBeGreaterThanOrEqual(-49);
          expect(difference).toBeLessThanOrEqual(50);
          expect(resolveGs1Year(yy, current) % 100).toBe(yy);
        }
      }
    });
  });

  it('reads DD = 00 as the last or the first day of the month, or refuses it, as the AI says', () => {
    const year = (): number => 2028;
    expect(gs1DateToIso('280200', year, { ai: '17', dayZero: 'last-day-of-month' })).toBe('2028-02-29');
    expect(gs1DateToIso('280200', year, { ai: '11', dayZero: 'first-day-of-month' })).toBe('2028-02-01');
    expect(gs1DateToIso('281100', year, { ai: '17', dayZero: 'last-day-of-month' })).toBe('2028-11-30');
    let error: unknown;
    try {
      gs1DateToIso('280200', year, { ai: '11', position: 7 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ProblemCode.Gs1Date, extensions: { ai: '11', position: 7 } });
  });

  it('checks a DD = 00 month even though no day is read', () => {
    let error: unknown;
    try {
      gs1DateToIso('281300', () => 2028, { ai: '17', dayZero: 'last-day-of-month' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: ProblemCode.Gs1Date, extensions: { ai: '17' } });
  });
});
