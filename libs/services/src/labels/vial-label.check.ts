import { ProblemCode } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  type Gs1Identification,
  isCalendarDate,
  parseDigitalLink,
  parseHumanReadable,
  resolveScanSubject,
} from '@lyotrace/domain';
import { type VialLabel } from './vial-label.types.js';

/**
 * What a vial label must get right beyond being valid GS1. Validity itself — AIs, lengths, character set 82,
 * check digits, calendar dates, requisites, Digital Link syntax — is the domain's GS1 parsers' to decide, so
 * a label is refused exactly as a scan of it would be. Here: which AIs a vial label carries, and that what is
 * printed for people (LOT, SN, EXP, the Digital Link) says the same as the symbol scanners read: 21 CFR
 * 211.130(a) (prevention of labelling mix-ups) and EU GMP Annex 11 §5 (built-in checks on data).
 */

/** The AIs a vial label may carry, in the order they are named in errors. */
const LABEL_AIS: readonly string[] = ['01', '11', '17', '10', '21'];
/**
 * Beyond the SGTIN (01) + (21), a vial label carries its expiry and lot, as the EU unique identifier does
 * (Delegated Regulation (EU) 2016/161 Art. 4: product code, serial number, batch number, expiry date).
 */
const REQUIRED_BESIDE_SGTIN = ['17', '10'] as const;

/** Control characters (C0, DEL, C1): never printable on a label. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const fail = (code: ProblemCode, message: string, extensions: Record<string, unknown>): never => {
  throw new DomainError(code, message, extensions);
};

const codePoint = (char: string): string =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

function requireText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') {
    return fail(ProblemCode.ValidationFailed, `${field} is required`, { field });
  }
  if (value.length > max) {
    fail(ProblemCode.ValidationFailed, `${field} is longer than ${max} characters`, { field });
  }
  const control = CONTROL.exec(value);
  if (control) {
    fail(ProblemCode.ValidationFailed, `${field} contains control character ${codePoint(control[0])}`, {
      field,
    });
  }
  return value;
}

/** Runs a domain GS1 read, adding to its refusal the label field it read (`labels[3].humanReadable`). */
function readingField<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DomainError) {
      throw new DomainError(error.code, error.message, { ...error.extensions, field });
    }
    throw error;
  }
}

/** What the renderer may rely on once a label has passed the check. */
export interface CheckedVialLabel {
  /** The symbol's content, as the domain reads `humanReadable`. */
  readonly symbol: Gs1Identification;
  readonly gtin: string;
}

/**
 * Checks one label completely before anything is drawn: the symbol's content (`humanReadable`, read by the
 * domain's parser), that it is a vial's — (01) (21) (17) (10), nothing but (11) beside — and that the printed
 * LOT, SN, EXP and the Digital Link say the same. `path` prefixes field names in errors (e.g. `labels[3].`).
 *
 * @param clock YY of (17) is read, as any scanner reads it, by the GS1 sliding window around the current year
 * @throws DomainError naming `field` (and `ai`, and `position` in `humanReadable`, where there is one)
 */
export function checkVialLabel(label: VialLabel, clock: Clock, path = ''): CheckedVialLabel {
  if (typeof label !== 'object' || label === null) {
    return fail(ProblemCode.ValidationFailed, `${path || 'label'} must be an object`, {
      field: path.replace(/\.$/, '') || 'label',
    });
  }
  const f = (name: string): string => `${path}${name}`;
  requireText(label.productName, f('productName'), 120);
  requireText(label.lot, f('lot'), 20);
  requireText(label.serial, f('serial'), 20);
  requireText(label.expiry, f('expiry'), 10);
  requireText(label.digitalLink, f('digitalLink'), 1024);
  const hriField = f('humanReadable');
  if (typeof label.humanReadable !== 'string') {
    fail(ProblemCode.Gs1Empty, `${hriField} is required`, { field: hriField });
  }

  const symbol = readingField(hriField, () => parseHumanReadable(label.humanReadable, clock));
  const foreign = symbol.ais.find(({ ai }) => !LABEL_AIS.includes(ai));
  if (foreign !== undefined) {
    fail(
      ProblemCode.Gs1UnknownAi,
      `AI (${foreign.ai}) is not one a vial label carries (allowed: ${LABEL_AIS.map((a) => `(${a})`).join(' ')})`,
      { field: hriField, ai: foreign.ai },
    );
  }
  // A vial is its SGTIN: without (21) the domain refuses it as GS1_SERIAL_MISSING, as it would refuse the scan.
  const vial = readingField(hriField, () => resolveScanSubject(symbol, 'vial'));
  const missing = REQUIRED_BESIDE_SGTIN.filter((ai) => !symbol.ais.some((element) => element.ai === ai));
  if (missing.length > 0) {
    fail(
      ProblemCode.Gs1Requisite,
      `a vial label must carry (01) (17) (10) (21); missing ${missing.map((a) => `(${a})`).join(' ')}`,
      { field: hriField, ai: missing[0] },
    );
  }

  if (vial.lot !== label.lot) {
    fail(ProblemCode.ValidationFailed, `lot "${label.lot}" differs from (10) "${vial.lot}" in the symbol`, {
      field: f('lot'),
      ai: '10',
    });
  }
  if (vial.serial !== label.serial) {
    fail(
      ProblemCode.ValidationFailed,
      `serial "${label.serial}" differs from (21) "${vial.serial}" in the symbol`,
      { field: f('serial'), ai: '21' },
    );
  }
  checkExpiry(label.expiry, symbol, f('expiry'));
  checkDigitalLink(label.digitalLink, symbol, clock, f('digitalLink'));
  return { symbol, gtin: vial.gtin };
}

/** EXP is printed as the symbol's (17) reads: DD = 00 as the last day of the month, the century by the window. */
function checkExpiry(iso: string, symbol: Gs1Identification, field: string): void {
  if (!isCalendarDate(iso)) {
    fail(ProblemCode.ValidationFailed, `expiry "${iso}" is not an ISO calendar date YYYY-MM-DD`, { field });
  }
  if (symbol.expiry !== iso) {
    const raw = symbol.expiryRaw ?? '';
    fail(
      ProblemCode.ValidationFailed,
      `expiry ${iso} differs from (17) ${raw} in the symbol, which reads as ${symbol.expiry ?? '?'}` +
        (raw.endsWith('00') ? ' (day 00 reads as the last day of the month)' : ''),
      { field, ai: '17' },
    );
  }
}

/**
 * The Digital Link must name the same vial: a valid GS1 Digital Link (the domain's parser) whose key is the
 * symbol's (01), and every AI it carries — (10), (21) in the path, attributes in the query — equal to the
 * symbol's. It may carry fewer (a product-level link); host and stem are free (GS1 allows any).
 */
function checkDigitalLink(uri: string, symbol: Gs1Identification, clock: Clock, field: string): void {
  const link = readingField(field, () => parseDigitalLink(uri, clock));
  if (link.gtin === undefined) {
    fail(
      ProblemCode.Gs1DigitalLink,
      `digital link "${uri}" names (00) SSCC ${link.sscc ?? ''}, not the vial's (01) GTIN`,
      { field, ai: '00' },
    );
  }
  for (const { ai, value } of link.ais) {
    const inSymbol = symbol.ais.find((element) => element.ai === ai)?.value;
    if (inSymbol !== value) {
      fail(
        ProblemCode.Gs1DigitalLink,
        inSymbol === undefined
          ? `digital link "${uri}" says (${ai}) "${value}" but the symbol has no (${ai})`
          : `digital link "${uri}" says (${ai}) "${value}" but the symbol says "${inSymbol}"`,
        { field, ai },
      );
    }
  }
}
