/**
 * GS1 identifiers: check digits and SSCCs, element strings as scanners send them, GS1 Digital Link URIs, and
 * the human-readable form printed under a barcode. Pure: dates are read against a Clock passed in.
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
