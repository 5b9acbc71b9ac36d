import { ProblemCode } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  parseScan,
  resolveScanSubject,
  type ShipperScanSubject,
  type VialScanSubject,
} from '@lyotrace/domain';

/**
 * What a scanner sent, read as GS1 (`parseScan`: element string, Digital Link or the printed `(01)…` text; a
 * browser wedge's lost or remapped GS is its business too, docs/gs1-scanning.md) — and what it identifies, refusing what the step does not expect: a would-be vial
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
    ? resolveScanSubject(parseScan(raw, clock), 'vial')
    : resolveScanSubject(parseScan(raw, clock), 'vial-or-shipper');
}

/** A valid vial scan of a vial nobody knows (404; a malformed scan is 422 before this). */
export function unknownVial(gtin: string, serial: string): DomainError {
  return new DomainError(ProblemCode.ScanUnknown, `no vial is known as GTIN ${gtin} serial ${serial}`, {
    field: 'raw',
    ai: '21',
  });
}
