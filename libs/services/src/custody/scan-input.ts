import {
  type Clock,
  parseElementString,
  resolveScanSubject,
  type ShipperScanSubject,
  type VialScanSubject,
} from '@lyotrace/domain';

/**
 * What a scanner sent, read as GS1 — an element string with or without its symbology identifier, or a Digital
 * Link URI (`parseElementString` takes both; a browser wedge's lost or remapped GS is its business too,
 * docs/gs1-scanning.md) — and what it identifies, refusing what the step does not expect: a would-be vial
 * without (21) is GS1_SERIAL_MISSING, never guessed.
 */
export function scanSubject(raw: string, clock: Clock, expected: 'vial'): VialScanSubject;
export function scanSubject(
  raw: string,
  clock: Clock,
  expected: 'vial-or-shipper',
): VialScanSubject | ShipperScanSubject;
export function scanSubject(
  raw: string,
  clock: Clock,
  expected: 'vial' | 'vial-or-shipper',
): VialScanSubject | ShipperScanSubject {
  return expected === 'vial'
    ? resolveScanSubject(parseElementString(raw, clock), 'vial')
    : resolveScanSubject(parseElementString(raw, clock), 'vial-or-shipper');
}
