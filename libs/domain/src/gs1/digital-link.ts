import { ProblemCode } from '@lyotrace/contracts';
import { type Clock } from '../clock.js';
import {
  aiLabel,
  checkElementCombination,
  checkElementValue,
  describeCharacter,
  duplicateAi,
  elementsOf,
  type Gs1Content,
  type Gs1Element,
  type Gs1Identification,
  identify,
  isSupportedAi,
  unknownAi,
} from './application-identifiers.js';
import { resolveGs1Year } from './gs1-date.js';
import { gs1Refusal } from './gs1-refusal.js';

/** GS1's own resolver; any host and path stem may stand in its place. */
export const GS1_RESOLVER = 'https://id.gs1.org';

/** A parsed GS1 Digital Link URI (GS1 Digital Link Standard: URI Syntax 1.x). */
export interface DigitalLink extends Gs1Identification {
  /** Scheme, host and any path stem before the primary key, without a trailing `/` (e.g. `https://id.gs1.org`). */
  readonly base: string;
}

type PrimaryKey = '00' | '01';
const isPrimaryKey = (ai: string): ai is PrimaryKey => ai === '00' || ai === '01';

/**
 * Key qualifiers, in the only order the path may hold them. (22) is listed for the order's sake but is not
 * a supported AI, so a link carrying it is refused as an unknown AI.
 */
const KEY_QUALIFIERS: Readonly<Record<PrimaryKey, readonly string[]>> = {
  '01': ['22', '10', '21'],
  '00': [],
};
const isKeyQualifier = (ai: string): boolean => ai === '10' || ai === '21' || ai === '22';

/** An AI in a path segment or query key; anything else in the query (e.g. `linkType`) is not GS1 data. */
const AI_SEGMENT = /^\d{2,4}$/;
/** GS1 Digital Link keeps GTIN-8/12/13 as they are printed; we hold every GTIN as 14 digits. */
const SHORT_GTIN = /^(\d{8}|\d{12}|\d{13})$/;

const URI = /^(https?:\/\/[^/?#]+)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i;

function linkRefusal(message: string, ai?: string): never {
  throw gs1Refusal(ProblemCode.Gs1DigitalLink, message, ai === undefined ? {} : { ai });
}

function percentDecode(text: string, ai?: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return linkRefusal(`malformed percent-encoding in "${text}"`, ai);
  }
}

/**
 * Reads a GS1 Digital Link URI: `{http|https}://{host}{/any/stem}/{01|00}/{key}{/qualifier/value…}{?ai=value&…}`.
 *
 * - The primary key is the rightmost `/01/` or `/00/` that the rest of the path pairs up with. A stem that
 *   itself looks like a key (`/01/` or `/00/` then digits, as in `…/00/12/01/…`) is refused rather than
 *   guessed at.
 * - After (01) the path may hold (10) then (21) — (22) would come first but is unsupported; (00) takes no
 *   qualifiers. Data attributes (11), (17), (99) go in the query string. Query parameters whose key is not
 *   all digits (`linkType`, tracking parameters) are not GS1 data and are ignored.
 * - Values are percent-decoded; `+` is a literal plus (RFC 3986), not a space.
 * - A GTIN-8/12/13 key is zero-padded to 14 digits.
 * - Every value is checked as in an element string; dates use the GS1 century window around the clock's year.
 *
 * @throws DomainError GS1_DIGITAL_LINK (structure), GS1_UNKNOWN_AI, GS1_LENGTH, GS1_CHARSET, GS1_CHECK_DIGIT,
 *   GS1_DATE, GS1_REQUISITE, GS1_DUPLICATE_AI, each naming the AI where there is one
 */
export function parseDigitalLink(uri: string, clock: Clock): DigitalLink {
  for (const char of uri) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || code >= 0x7f) {
      linkRefusal(`a URI cannot hold ${describeCharacter(code)}: percent-encode it`);
    }
  }
  const match = URI.exec(uri);
  const [, origin, path = '', query] = match ?? [];
  if (origin === undefined) linkRefusal('a GS1 Digital Link is an http or https URI with a host');
  if (path.endsWith('/')) linkRefusal('a GS1 Digital Link path does not end with "/"');

  const segments = path === '' ? [] : path.slice(1).split('/');
  const pathElements: { ai: string; raw: string }[] = [];
  let stemLength = segments.length;
  let key: PrimaryKey | undefined;
  while (stemLength >= 2 && key === undefined) {
    const ai = segments[stemLength - 2] ?? '';
    if (!AI_SEGMENT.test(ai)) break;
    pathElements.unshift({ ai, raw: segments[stemLength - 1] ?? '' });
    stemLength -= 2;
    if (isPrimaryKey(ai)) key = ai;
  }
  if (key === undefined) {
    linkRefusal('no GS1 key in the path: a GS1 Digital Link holds /01/{GTIN} or /00/{SSCC}');
  }
  // The walk stops at the rightmost key, so a second key can only be in what it left as the stem.
  const stem = segments.slice(0, stemLength);
  stem.forEach((segment, index) => {
    if (isPrimaryKey(segment) && /^\d+$/.test(stem[index + 1] ?? '')) {
      if (segment === key) duplicateAi(key);
      linkRefusal(`the path holds two GS1 keys, (${segment}) and (${key})`, segment);
    }
  });

  const elements: Gs1Element[] = [];
  const order = KEY_QUALIFIERS[key];
  let previous = -1;
  pathElements.forEach(({ ai, raw }, index) => {
    if (!isSupportedAi(ai)) unknownAi(ai);
    if (index > 0) {
      if (!isKeyQualifier(ai)) {
        linkRefusal(`${aiLabel(ai)} is a data attribute: it belongs in the query string (?${ai}=…)`, ai);
      }
      const rank = order.indexOf(ai);
      if (rank < 0) linkRefusal(`${aiLabel(ai)} cannot qualify ${aiLabel(key)}`, ai);
      if (rank === previous) duplicateAi(ai);
      if (rank < previous) {
        linkRefusal(
          `key qualifiers of ${aiLabel(key)} go in the order ${order.join(', ')}: (${ai}) is out of order`,
          ai,
        );
      }
      previous = rank;
    }
    elements.push({ ai, value: percentDecode(raw, ai) });
  });

  for (const parameter of (query ?? '').split('&')) {
    if (parameter === '') continue;
    const equals = parameter.indexOf('=');
    const ai = percentDecode(equals < 0 ? parameter : parameter.slice(0, equals));
    if (!/^\d+$/.test(ai)) continue;
    if (!isSupportedAi(ai)) unknownAi(ai);
    if (isPrimaryKey(ai)) linkRefusal(`${aiLabel(ai)} is a primary key: it belongs in the path`, ai);
    if (isKeyQualifier(ai))
      linkRefusal(`${aiLabel(ai)} is a key qualifier: it belongs in the path (/${ai}/…)`, ai);
    elements.push({ ai, value: equals < 0 ? '' : percentDecode(parameter.slice(equals + 1), ai) });
  }

  const [first] = elements;
  if (first !== undefined && first.ai === '01' && SHORT_GTIN.test(first.value)) {
    elements[0] = { ai: '01', value: first.value.padStart(14, '0') };
  }
  const currentYear = clock.now().getUTCFullYear();
  const resolveYear = (yy: number): number => resolveGs1Year(yy, currentYear);
  for (const element of elements) checkElementValue(element.ai, element.value, resolveYear);
  checkElementCombination(elements);
  return {
    base: `${origin}${stem.map((segment) => `/${segment}`).join('')}`,
    ...identify(elements, resolveYear),
  };
}

/**
 * RFC 3986 §2.3: everything but the unreserved characters is percent-encoded, which covers every character
 * the GS1 Digital Link standard lists for AI values (`!"%&'()*+,/:;<=>?`). Values are set-82 ASCII, so one
 * byte per character.
 */
function percentEncode(value: string): string {
  return value.replace(
    /[^A-Za-z0-9\-._]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

const BASE = /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/i;

/**
 * Writes a GS1 Digital Link URI: `{base}/01/{gtin}/10/{lot}/21/{serial}?17={YYMMDD}` (or `{base}/00/{sscc}`).
 * Qualifiers go in the path in GS1 order whatever their order in the input; data attributes go in the query
 * in input order; values are percent-encoded. Input is checked as a parse would check it.
 *
 * @param content typed trade item fields, or AIs (e.g. the `ais` of a parsed element string)
 * @param base scheme, host and optional stem, e.g. `https://example.com/some/stem`
 * @throws DomainError GS1_DIGITAL_LINK when there is no key, two keys or a bad base; any value or combination
 *   refusal a parse would give
 */
export function formatDigitalLink(content: Gs1Content, base: string = GS1_RESOLVER): string {
  if (!BASE.test(base)) {
    throw gs1Refusal(ProblemCode.Gs1DigitalLink, `"${base}" is not an http or https URI base without query`, {
      field: 'base',
    });
  }
  const elements = elementsOf(content);
  const keys = elements.filter(({ ai }) => isPrimaryKey(ai));
  const [key] = keys;
  if (key === undefined) linkRefusal('a GS1 Digital Link needs a primary key: (01) GTIN or (00) SSCC');
  if (keys.length > 1) linkRefusal('a GS1 Digital Link holds one primary key, not both (01) and (00)', '00');
  const path = [key, ...['10', '21'].map((ai) => elements.find((element) => element.ai === ai))]
    .filter((element) => element !== undefined)
    .map((element) => `/${element.ai}/${percentEncode(element.value)}`)
    .join('');
  const attributes = elements
    .filter(({ ai }) => !isPrimaryKey(ai) && !isKeyQualifier(ai))
    .map((element) => `${element.ai}=${percentEncode(element.value)}`);
  return `${base.replace(/\/+$/, '')}${path}${attributes.length === 0 ? '' : `?${attributes.join('&')}`}`;
}
