import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { zoneOffsetName } from '../time-zone.js';

/** EPCIS 2.0 JSON schema, `eventTimeZoneOffset`: ±hh:mm from −13:59 to +14:00; no `Z`. */
export const EVENT_TIME_ZONE_OFFSET = /^[+-]((0\d|1[0-3]):[0-5]\d|14:00)$/;

/**
 * The offset from UTC in force in an IANA time zone at an instant, as EPCIS wants it (`+01:00`, `-03:30`,
 * `+00:00`). EPCIS records the offset, not the zone, so it must be taken at the event's own instant: Rome is
 * +01:00 in January and +02:00 in July.
 *
 * Read from the tz database the runtime ships with (ICU, through Intl): no clock, no I/O. ICU writes the
 * offset as `GMT+01:00`, or `GMT` alone for zero on some versions; local mean time before a zone adopted
 * standard time carries seconds (Paris in 1900: `GMT+00:09:21`), which EPCIS cannot express.
 */
export function epcisTimeZoneOffset(instant: Date, timeZone: string): string {
  if (Number.isNaN(instant.getTime())) {
    throw new DomainError(ProblemCode.ValidationFailed, 'the instant is not a valid date', {
      field: 'eventTime',
    });
  }
  let name: string | undefined;
  try {
    name = zoneOffsetName(instant, timeZone);
  } catch {
    // Intl throws a RangeError for a zone it does not know.
    throw new DomainError(ProblemCode.ValidationFailed, `"${timeZone}" is not an IANA time zone`, {
      field: 'timeZone',
    });
  }
  if (name === 'GMT') return '+00:00';
  const match = name === undefined ? null : /^GMT([+-]\d{2}:\d{2})$/.exec(name);
  if (match?.[1] === undefined || !EVENT_TIME_ZONE_OFFSET.test(match[1])) {
    throw new DomainError(
      ProblemCode.ValidationFailed,
      `${timeZone} at ${instant.toISOString()} is ${name ?? 'an unknown offset'}: not writable as ±hh:mm`,
      { field: 'timeZone' },
    );
  }
  return match[1];
}
