/**
 * GS1 identifiers: check digits and SSCCs, element strings as scanners send them, GS1 Digital Link URIs, the
 * human-readable form printed under a barcode, and what a scan identifies (vial, shipper, trade item). Pure:
 * dates are read against a Clock passed in. What scanners send and which GS stand-ins are read: docs/gs1-scanning.md.
 */
export { gs1CheckDigit, hasValidGs1CheckDigit, generateSscc } from './check-digit.js';
export type {
  Gs1Ai,
  Gs1Element,
  Gs1Identification,
  Gs1TradeItem,
  Gs1Content,
} from './application-identifiers.js';
export {
  GS,
  GS_SUBSTITUTES,
  type GsSubstitute,
  type Gs1Symbology,
  type Gs1ElementString,
  type ElementStringFormat,
  parseElementString,
  formatElementString,
  formatHumanReadable,
} from './element-string.js';
export { GS1_RESOLVER, type DigitalLink, parseDigitalLink, formatDigitalLink } from './digital-link.js';
export { parseHumanReadable } from './human-readable.js';
export { isInCharacterSet82 } from './application-identifiers.js';
export {
  type ScanSubject,
  type VialScanSubject,
  type ShipperScanSubject,
  type TradeItemScanSubject,
  type ScanExpectation,
  classifyScan,
  resolveScanSubject,
  parseScan,
} from './scan-subject.js';
