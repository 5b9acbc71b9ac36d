import { ProblemCode } from '@lyotrace/contracts';
import { type DomainError } from '../domain-error.js';
import { type Clock } from '../clock.js';
import { aiLabel, type Gs1Identification } from './application-identifiers.js';
import { parseElementString } from './element-string.js';
import { parseHumanReadable } from './human-readable.js';
import { gs1Refusal } from './gs1-refusal.js';

/**
 * Reads whatever form a GS1 identification arrives in: scanner data (an element string with or without its
 * symbology identifier, or a Digital Link URI — both `parseElementString`) or the text printed under a barcode,
 * `(01)…(21)…` (`parseHumanReadable`). The one entry point for scans, doses and trace references.
 */
export function parseScan(raw: string, clock: Clock): Gs1Identification {
  return raw.startsWith('(') ? parseHumanReadable(raw, clock) : parseElementString(raw, clock);
}

/** A serialized vial: an SGTIN, (01) GTIN + (21) serial, with the lot and expiry its label also carries. */
export interface VialScanSubject {
  readonly kind: 'vial';
  readonly gtin: string;
  readonly serial: string;
  readonly lot?: string;
  /** ISO `YYYY-MM-DD` (DD = 00 already read as the month's last day). */
  readonly expiry?: string;
}

/** A shipper (logistic unit): (00) SSCC. */
export interface ShipperScanSubject {
  readonly kind: 'shipper';
  readonly sscc: string;
}

/** A trade item without a serial: a GTIN, perhaps with its lot, naming a product or a lot, never one vial. */
export interface TradeItemScanSubject {
  readonly kind: 'trade-item';
  readonly gtin: string;
  readonly lot?: string;
  readonly expiry?: string;
}

export type ScanSubject = VialScanSubject | ShipperScanSubject | TradeItemScanSubject;

/** What the screen that scans is waiting for; `any` takes whatever the scan identifies. */
export type ScanExpectation = 'vial' | 'shipper' | 'vial-or-shipper' | 'any';

/**
 * What a parsed scan (element string, Digital Link or human-readable text) identifies.
 *
 * - (00) present: a shipper. The SSCC is the logistic unit's own identity (GS1 General Specifications §2.2.1);
 *   a (01) beside it describes the unit, it does not make it a vial.
 * - (01) with (21): a vial (SGTIN).
 * - (01) without (21): a trade item — a product, or a lot when (10) is there.
 *
 * @throws DomainError GS1_REQUISITE when the scan holds neither (00) nor (01), naming its first AI
 */
export function classifyScan(scan: Gs1Identification): ScanSubject {
  if (scan.sscc !== undefined) return { kind: 'shipper', sscc: scan.sscc };
  const { gtin, serial, lot, expiry } = scan;
  if (gtin === undefined) {
    const [first] = scan.ais;
    const what = first === undefined ? 'the scan' : aiLabel(first.ai);
    throw gs1Refusal(
      ProblemCode.Gs1Requisite,
      `${what} identifies nothing on its own: a scan needs (01) GTIN or (00) SSCC`,
      { ai: first?.ai },
    );
  }
  const details = { ...(lot === undefined ? {} : { lot }), ...(expiry === undefined ? {} : { expiry }) };
  return serial === undefined
    ? { kind: 'trade-item', gtin, ...details }
    : { kind: 'vial', gtin, serial, ...details };
}

/**
 * `classifyScan`, refusing a scan that is not what the caller waits for. A scan that names a GTIN but no
 * serial where a vial is expected is refused as GS1_SERIAL_MISSING, never matched to a vial by its lot: a
 * keyboard wedge that drops the GS after (10) runs lot and serial together (`10LYO24A0121V0001` is lot
 * `LYO24A0121V0001`, GS1.md), and guessing where the serial starts could pick the wrong vial. EU GMP Annex 11
 * §5 (built-in checks on data entry) and 21 CFR 211.68(b) (input checked for accuracy): a scan is checked,
 * never completed by inference.
 *
 * @throws DomainError GS1_SERIAL_MISSING (`ai: '21'`) for a GTIN without (21) where a vial is expected;
 *   GS1_REQUISITE naming the missing key AI — (01) for a vial, (00) for a shipper — for the wrong kind of thing
 */
export function resolveScanSubject(scan: Gs1Identification, expected: 'vial'): VialScanSubject;
export function resolveScanSubject(scan: Gs1Identification, expected: 'shipper'): ShipperScanSubject;
export function resolveScanSubject(
  scan: Gs1Identification,
  expected: 'vial-or-shipper',
): VialScanSubject | ShipperScanSubject;
export function resolveScanSubject(scan: Gs1Identification, expected?: ScanExpectation): ScanSubject;
export function resolveScanSubject(scan: Gs1Identification, expected: ScanExpectation = 'any'): ScanSubject {
  const subject = classifyScan(scan);
  const wantsVial = expected === 'vial' || expected === 'vial-or-shipper';
  if (subject.kind === 'trade-item' && wantsVial) throw serialMissing(subject);
  if (subject.kind === 'shipper' && expected === 'vial') {
    throw gs1Refusal(
      ProblemCode.Gs1Requisite,
      `a vial scan needs (01) GTIN with (21) serial; this is a shipper's (00) SSCC ${subject.sscc}`,
      { ai: '01' },
    );
  }
  if (subject.kind !== 'shipper' && expected === 'shipper') {
    throw gs1Refusal(
      ProblemCode.Gs1Requisite,
      `a shipper scan needs (00) SSCC; this is ${subject.kind === 'vial' ? 'a vial' : 'a trade item'} with (01) GTIN ${subject.gtin}`,
      { ai: '00' },
    );
  }
  return subject;
}

function serialMissing(subject: TradeItemScanSubject): DomainError {
  // Only a hint in the message: "21" inside a lot is as often plain data.
  const merged = subject.lot !== undefined && /.21./.test(subject.lot);
  const hint = merged
    ? ` The lot "${subject.lot}" holds "21": if the scanner dropped the GS separator, lot and serial ran` +
      ' together; set the scanner to keep GS (docs/gs1-scanning.md) and scan again.'
    : '';
  return gs1Refusal(
    ProblemCode.Gs1SerialMissing,
    `(21) serial is missing: a vial is identified by (01) GTIN with (21) serial, and this scan has GTIN ${subject.gtin} without one.${hint}`,
    { ai: '21' },
  );
}
