import { DomainError } from '../domain-error.js';
import { epcisTimeZoneOffset } from './time-zone.js';

describe('epcisTimeZoneOffset', () => {
  it.each([
    ['Europe/Rome', '2024-01-15T09:00:00.000Z', '+01:00'],
    ['Europe/Rome', '2024-07-15T09:00:00.000Z', '+02:00'],
    // EU summer time starts 31 March 2024 at 01:00 UTC.
    ['Europe/Rome', '2024-03-31T00:59:59.999Z', '+01:00'],
    ['Europe/Rome', '2024-03-31T01:00:00.000Z', '+02:00'],
    ['UTC', '2024-01-15T09:00:00.000Z', '+00:00'],
    ['Europe/London', '2024-01-15T09:00:00.000Z', '+00:00'],
    ['Asia/Kolkata', '2024-01-15T09:00:00.000Z', '+05:30'],
    ['America/St_Johns', '2024-01-15T09:00:00.000Z', '-03:30'],
    ['America/New_York', '2024-07-15T09:00:00.000Z', '-04:00'],
    ['Pacific/Kiritimati', '2024-01-15T09:00:00.000Z', '+14:00'],
  ])('%s at %s is %s', (zone, iso, offset) => {
    expect(epcisTimeZoneOffset(new Date(iso), zone)).toBe(offset);
  });

  it('refuses a zone the tz database does not know', () => {
    expect(() => epcisTimeZoneOffset(new Date('2024-01-15T09:00:00Z'), 'Europe/Atlantis')).toThrow(
      DomainError,
    );
  });

  it('refuses an offset with seconds (local mean time) rather than rounding it', () => {
    // Paris kept Paris mean time, +00:09:21, until 1911.
    const lmt = (): string => epcisTimeZoneOffset(new Date('1900-01-01T00:00:00Z'), 'Europe/Paris');
    expect(lmt).toThrow(DomainError);
    expect(lmt).toThrow(/not writable as ±hh:mm/);
  });

  it('refuses an invalid date', () => {
    expect(() => epcisTimeZoneOffset(new Date('not a date'), 'Europe/Rome')).toThrow(DomainError);
  });
});
