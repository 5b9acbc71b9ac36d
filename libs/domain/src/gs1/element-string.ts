import { ProblemCode } from '@lyotrace/contracts';
import { type Clock } from '../clock.js';
import {
  aiDefinition,
  checkElementCombination,
  checkElementValue,
  duplicateAi,
  elementsOf,
  fixedLengthFirst,
  type Gs1Content,
  type Gs1Element,
  type Gs1Identification,
  identify,
  isSupportedAi,
  unknownAi,
} from './application-identifiers.js';
import { parseDigitalLink } from './digital-link.js';
import { resolveGs1Year } from './gs1-date.js';
import { gs1Refusal } from './gs1-refusal.js';

/** ASCII 29, Group Separator: ends a variable-length AI value that is not last (FNC1 as transmitted). */
export const GS = '\u001d';

/**
 * Characters read as GS in an element string, because keyboard wedges and browsers lose or remap the
 * control character. Each is safe because it can NEVER be data: every value we read is either digits or
 * GS1 character set 82 (printable ASCII less space and `#$@[\]^`{|}~`), and none of these is in it.
 *
 * Deliberately NOT here: `<GS>` and `{GS}`-style text (`<`, `G`, `S`, `>` are set-82, so `LOT<GS>21X` is a
 * valid 10-character lot), the literal text `\x1D` (backslash aside, the rest is data), space (a stray one
 * must be refused, not split on), `]` (starts a symbology identifier), `[` and `\`, and RS (0x1E) / EOT
 * (0x04), which frame ISO/IEC 15434 envelopes and mean something else; reading them as GS would half-parse
 * an envelope we do not support.
 */
export const GS_SUBSTITUTES = [
  /** The real thing, as a serial (USB-CDC) scanner or a well-behaved wedge delivers it. */
  GS,
  /** U+241D SYMBOL FOR GROUP SEPARATOR: the visible picture of GS, as pasted from documents and test tools. */
  '\u241d',
  /**
   * U+2194 LEFT RIGHT ARROW: a wedge that types GS as Alt+029 on Windows gets, in many applications, the
   * code page 437 glyph of 0x1D, which is this arrow.
   */
  '\u2194',
  /** `^`: the usual written stand-in for FNC1 (GS1.md's own example `^0112345678901231991234` uses it). */
  '^',
  /** `~` and `|`: visible characters a scanner can be configured to send instead of GS. */
  '~',
  '|',
] as const;

export type GsSubstitute = (typeof GS_SUBSTITUTES)[number];

const SUBSTITUTE = new RegExp(
  `[${GS_SUBSTITUTES.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}]`,
  'g',
);

/**
 * What the symbology identifier (ISO/IEC 15424) says the scanner read. The `gs1-` ones carry AI element
 * strings (the leading FNC1 is implied by the identifier); plain `datamatrix` / `qr` carry GS1 data only as a
 * Digital Link URI; `none` means the scanner sent no identifier, as keyboard wedges usually do.
 */
export type Gs1Symbology = 'gs1-datamatrix' | 'gs1-qr' | 'gs1-128' | 'datamatrix' | 'qr' | 'none';

const SYMBOLOGY_IDENTIFIERS: Readonly<Record<string, { symbology: Gs1Symbology; gs1: boolean }>> = {
  ']d2': { symbology: 'gs1-datamatrix', gs1: true },
  ']Q3': { symbology: 'gs1-qr', gs1: true },
  ']C1': { symbology: 'gs1-128', gs1: true },
  ']d1': { symbology: 'datamatrix', gs1: false },
  ']Q1': { symbology: 'qr', gs1: false },
};

/** A parsed scan: the symbology it came in and what it says. */
export interface Gs1ElementString extends Gs1Identification {
  readonly symbology: Gs1Symbology;
  /** Present when the payload was a GS1 Digital Link URI: its scheme, host and stem (see `DigitalLink.base`). */
  readonly digitalLinkBase?: string;
}

const DIGITAL_LINK = /^https?:\/\//i;

/**
 * Reads what a scanner sent: a GS1 element string, or a GS1 Digital Link URI.
 *
 * - Symbology identifier: `]d2`, `]Q3`, `]C1` carry an element string; `]d1`, `]Q1` only a Digital Link URI;
 *   any other identifier is refused. Without one the data is read as an element string (keyboard wedge),
 *   unless it is an http(s) URI, which is read as a Digital Link.
 * - GS (0x1D) or any of `GS_SUBSTITUTES` ends a variable-length value. A leading GS, a superfluous GS after
 *   a fixed-length AI and a trailing GS are tolerated.
 * - A missing GS is NOT detected: `10LYO24A0121V0001` is lot `LYO24A0121V0001` and no serial. Whether a
 *   serial is required is the caller's business rule.
 * - (17) with DD = 00 is read as the last day of the month (`expiry`); `expiryRaw` keeps YYMMDD.
 * - YY takes its century from the GS1 sliding window around the clock's current (UTC) year.
 * - The scanner's line terminator (CR/LF) is the transport's to strip; here it is refused as a character.
 *
 * @throws DomainError whose code starts with `GS1_`; `extensions.ai` names the AI at fault and
 *   `extensions.position` is the 0-based offset in `raw` where the problem was found (element strings only)
 */
export function parseElementString(raw: string, clock: Clock): Gs1ElementString {
  let symbology: Gs1Symbology = 'none';
  let carriesElementString = true;
  let offset = 0;
  if (raw.startsWith(']')) {
    const identifier = raw.slice(0, 3);
    const known = SYMBOLOGY_IDENTIFIERS[identifier];
    if (known === undefined) {
      throw gs1Refusal(
        ProblemCode.Gs1Symbology,
        `symbology identifier "${identifier}" is not one we read: ${Object.keys(SYMBOLOGY_IDENTIFIERS).join(', ')}`,
        { position: 0 },
      );
    }
    ({ symbology } = known);
    carriesElementString = known.gs1;
    offset = 3;
  }
  const payload = raw.slice(offset).replace(SUBSTITUTE, GS);
  if (payload.split(GS).join('') === '') {
    throw gs1Refusal(ProblemCode.Gs1Empty, 'the scan holds no data', { position: offset });
  }

  // Read from the raw text: `~` and `|` are URI characters there, not GS stand-ins. GS bytes some stacks add
  // around the data are framing.
  const uri = trimGs(raw.slice(offset));
  if (DIGITAL_LINK.test(uri)) {
    if (carriesElementString && symbology !== 'none') {
      throw gs1Refusal(
        ProblemCode.Gs1Symbology,
        `a GS1 Digital Link URI is carried in a plain symbology (]d1, ]Q1), not ${raw.slice(0, 3)}`,
        { position: 0 },
      );
    }
    const { base, ...identification } = parseDigitalLink(uri, clock);
    return { symbology, digitalLinkBase: base, ...identification };
  }
  if (!carriesElementString) {
    throw gs1Refusal(
      ProblemCode.Gs1Symbology,
      `a plain ${symbology === 'qr' ? 'QR code (]Q1)' : 'Data Matrix (]d1)'} carries GS1 data only as a GS1 Digital Link URI`,
      { position: 0 },
    );
  }

  const currentYear = clock.now().getUTCFullYear();
  const resolveYear = (yy: number): number => resolveGs1Year(yy, currentYear);
  const elements: Gs1Element[] = [];
  const positions: number[] = [];
  let i = 0;
  for (;;) {
    while (payload[i] === GS) i++;
    if (i >= payload.length) break;
    const start = i;
    const ai = payload.slice(i, i + 2);
    if (!isSupportedAi(ai)) unknownAi(nameUnknownAi(payload, i), offset + start);
    if (elements.some((element) => element.ai === ai)) duplicateAi(ai, offset + start);
    const definition = aiDefinition(ai);
    i += 2;
    let end: number;
    if (definition.fixed) {
      end = Math.min(i + definition.length, payload.length);
      const separator = payload.indexOf(GS, i);
      if (separator >= 0 && separator < end) end = separator;
    } else {
      const separator = payload.indexOf(GS, i);
      end = separator < 0 ? payload.length : separator;
    }
    const value = payload.slice(i, end);
    checkElementValue(ai, value, resolveYear, { ai: offset + start, value: offset + i });
    elements.push({ ai, value });
    positions.push(offset + start);
    i = end;
  }
  checkElementCombination(elements, positions);
  return { symbology, ...identify(elements, resolveYear) };
}

function trimGs(text: string): string {
  let start = 0;
  let end = text.length;
  while (text[start] === GS) start++;
  while (end > start && text[end - 1] === GS) end--;
  return text.slice(start, end);
}

/**
 * GS1 General Specifications §3.2 (AIs by their first two digits): the length of an AI follows from its
 * prefix, so an unsupported one can be named whole — "(240)", not "(24)".
 */
const AI_LENGTH_BY_PREFIX: Readonly<Record<string, number>> = {
  ...Object.fromEntries(['23', '24', '25', '40', '41', '42', '71'].map((prefix) => [prefix, 3])),
  ...Object.fromEntries(
    ['31', '32', '33', '34', '35', '36', '39', '43', '70', '72', '80', '81', '82'].map((prefix) => [
      prefix,
      4,
    ]),
  ),
};

function nameUnknownAi(payload: string, at: number): string {
  const prefix = payload.slice(at, at + 2);
  if (!/^\d\d$/.test(prefix)) return prefix;
  const candidate = payload.slice(at, at + (AI_LENGTH_BY_PREFIX[prefix] ?? 2));
  return /^\d+$/.test(candidate) ? candidate : prefix;
}

export interface ElementStringFormat {
  /** Symbology identifier to put in front, or `none` (the default) for what a barcode encoder takes. */
  readonly symbology?: ']d2' | ']Q3' | ']C1' | 'none';
  /** Separator after a variable-length value that is not last; GS (0x1D) by default. */
  readonly gs?: GsSubstitute;
}

/**
 * Writes an element string: fixed-length AIs first (they need no separator), then variable-length ones, each
 * ended by the separator except the last. Input is checked as a parse would check it.
 *
 * @param content typed trade item fields, or AIs (e.g. the `ais` of a parsed Digital Link)
 * @throws DomainError with a GS1_ code naming the AI
 */
export function formatElementString(content: Gs1Content, format: ElementStringFormat = {}): string {
  const { symbology = 'none', gs = GS } = format;
  const elements = fixedLengthFirst(elementsOf(content));
  const body = elements
    .map(({ ai, value }, index) =>
      aiDefinition(ai).fixed || index === elements.length - 1 ? `${ai}${value}` : `${ai}${value}${gs}`,
    )
    .join('');
  return `${symbology === 'none' ? '' : symbology}${body}`;
}

/**
 * The human-readable interpretation printed under a barcode: `(01)09520012345674(17)271200(10)LYO24A01(21)V0001`,
 * in the same order as `formatElementString`.
 *
 * @throws DomainError with a GS1_ code naming the AI
 */
export function formatHumanReadable(content: Gs1Content): string {
  return fixedLengthFirst(elementsOf(content))
    .map(({ ai, value }) => `(${ai})${value}`)
    .join('');
}
