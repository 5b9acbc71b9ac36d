// Building an Intl.DateTimeFormat costs far more than using one (it loads the zone's ICU data): one per zone,
// kept, since every gate check and every custody event asks. The sites' zones are a short list; the cap is a
// safeguard. Only zones Intl accepted are kept.
const offsetFormats = new Map<string, Intl.DateTimeFormat>();
function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    if (offsetFormats.size >= 1_000) offsetFormats.clear();
    offsetFormats.set(timeZone, format);
  }
  return format;
}

/**
 * ICU's name for the UTC offset in force in an IANA zone at an instant: `GMT+01:00`, `GMT` alone for zero on
 * some ICU versions, and seconds for local mean time before a zone adopted standard time (`GMT+00:09:21`).
 * Read from the tz database the runtime ships with: no clock, no I/O.
 *
 * @throws RangeError for a zone Intl does not know
 */
export function zoneOffsetName(instant: Date, timeZone: string): string | undefined {
  return offsetFormat(timeZone)
    .formatToParts(instant)
    .find((part) => part.type === 'timeZoneName')?.value;
}

/** The UTC offset in force in an IANA zone at an instant, in milliseconds (local time − UTC). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const name = zoneOffsetName(instant, timeZone);
  if (name === 'GMT') return 0;
  const m = name === undefined ? null : /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name);
  if (!m)
    throw new RangeError(`${timeZone} at ${instant.toISOString()}: unreadable offset ${name ?? '(none)'}`);
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return (m[1] === '-' ? -seconds : seconds) * 1000;
}
