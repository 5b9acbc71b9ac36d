import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import { type VialLabel } from './vial-label.types.js';

/**
 * A deliberately small GS1 check for what a vial label encodes: (01), (11), (17), (10), (21) only. It is not
 * the GS1 parser (that one lives in the domain and reads scans); it refuses anything the renderer should not
 * print, before any barcode is drawn, with a DomainError that names the field and the AI.
 */

/** ASCII 29, the GS1 separator after a variable-length AI that is not last. */
export const GS = '\u001d';

export interface Gs1Element {
  ai: string;
  value: string;
}

type AiRule =
  | { kind: 'numeric'; length: number; name: string; checkDigit?: true; date?: true }
  | { kind: 'alphanumeric'; max: number; name: string };

const AI_RULES: Readonly<Record<string, AiRule>> = {
  '01': { kind: 'numeric', length: 14, name: 'GTIN', checkDigit: true },
  '11': { kind: 'numeric', length: 6, name: 'production date', date: true },
  '17': { kind: 'numeric', length: 6, name: 'expiry date', date: true },
  '10': { kind: 'alphanumeric', max: 20, name: 'lot' },
  '21': { kind: 'alphanumeric', max: 20, name: 'serial' },
};

/** The AIs a vial label must carry. */
const VIAL_AIS = ['01', '17', '10', '21'] as const;

/**
 * GS1 character set 82, less `(` and `)`: those two are in the set but cannot be told apart from an AI in the
 * parenthesised form the label is given in, so a value holding one is refused rather than mis-encoded.
 */
const CSET82_NO_PARENS = /^[!"%&'*+,\-./0-9:;<=>?A-Z_a-z]*$/;

/** Control characters (C0, DEL, C1): never printable on a label. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const fail = (code: ProblemCode, message: string, extensions: Record<string, unknown>): never => {
  throw new DomainError(code, message, extensions);
};

/** GS1 mod-10 check digit of `digits` (the data digits, without the check digit). */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return (10 - (sum % 10)) % 10;
}

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const describe = (ch: string): string =>
  ch === ' ' ? 'a space' : CONTROL.test(ch) ? `control character U+${hex(ch)}` : `"${ch}" (U+${hex(ch)})`;

const hex = (ch: string): string => (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');

/**
 * Splits a parenthesised element string `(01)…(17)…` into its elements, checking each value against its AI
 * (length, character set, check digit, calendar month/day). `field` names the input in errors.
 */
export function parseHumanReadable(hri: string, field = 'humanReadable'): Gs1Element[] {
  if (typeof hri !== 'string' || hri.length === 0) {
    return fail(ProblemCode.Gs1Empty, 'the GS1 element string is empty', { field });
  }
  const elements: Gs1Element[] = [];
  const head = /\((\d{2,4})\)/y;
  let at = 0;
  while (at < hri.length) {
    head.lastIndex = at;
    const match = head.exec(hri);
    if (!match) {
      return fail(
        ProblemCode.Gs1UnknownAi,
        `expected an application identifier such as "(01)" at position ${at + 1} of "${hri}"`,
        { field, position: at + 1 },
      );
    }
    const ai = match[1] ?? '';
    const start = head.lastIndex;
    const next = hri.indexOf('(', start);
    const end = next === -1 ? hri.length : next;
    elements.push({ ai, value: hri.slice(start, end) });
    at = end;
  }
  const seen = new Set<string>();
  for (const { ai, value } of elements) {
    if (seen.has(ai)) {
      fail(ProblemCode.Gs1DuplicateAi, `AI (${ai}) appears more than once`, { field, ai });
    }
    seen.add(ai);
    checkValue(ai, value, field);
  }
  return elements;
}

function checkValue(ai: string, value: string, field: string): void {
  const rule = AI_RULES[ai];
  if (!rule) {
    fail(
      ProblemCode.Gs1UnknownAi,
      `AI (${ai}) is not one a vial label carries (allowed: ${Object.keys(AI_RULES)
        .map((a) => `(${a})`)
        .join(' ')})`,
      { field, ai },
    );
    return;
  }
  if (rule.kind === 'numeric') {
    if (!/^\d*$/.test(value)) {
      const bad = [...value].find((c) => c < '0' || c > '9') ?? '';
      fail(
        ProblemCode.Gs1Charset,
        `AI (${ai}) ${rule.name} must be digits only; it contains ${describe(bad)}`,
        {
          field,
          ai,
        },
      );
    }
    if (value.length !== rule.length) {
      fail(
        ProblemCode.Gs1Length,
        `AI (${ai}) ${rule.name} must be exactly ${rule.length} digits; got ${value.length} ("${value}")`,
        { field, ai },
      );
    }
    if (rule.checkDigit) {
      const expected = gs1CheckDigit(value.slice(0, -1));
      if (Number(value.slice(-1)) !== expected) {
        fail(
          ProblemCode.Gs1CheckDigit,
          `AI (${ai}) ${rule.name} ${value}: check digit should be ${expected}`,
          {
            field,
            ai,
          },
        );
      }
    }
    if (rule.date) {
      const month = Number(value.slice(2, 4));
      const day = Number(value.slice(4, 6));
      // The century is not known here; 2000 + YY decides only 29 February, and 2000 is a leap year like 2100
      // is not — the label's own ISO expiry is compared against (17) separately, with its full year.
      const year = 2000 + Number(value.slice(0, 2));
      if (month < 1 || month > 12 || day > daysInMonth(year, month)) {
        fail(ProblemCode.Gs1Date, `AI (${ai}) ${rule.name} ${value} is not a YYMMDD calendar date`, {
          field,
          ai,
        });
      }
    }
    return;
  }
  if (value.length < 1 || value.length > rule.max) {
    fail(
      ProblemCode.Gs1Length,
      `AI (${ai}) ${rule.name} must be 1 to ${rule.max} characters; got ${value.length}` +
        (value.length > 0 ? ` ("${value}")` : ''),
      { field, ai },
    );
  }
  if (!CSET82_NO_PARENS.test(value)) {
    const index = [...value].findIndex((c) => !CSET82_NO_PARENS.test(c));
    const bad = [...value][index] ?? '';
    fail(
      ProblemCode.Gs1Charset,
      `AI (${ai}) ${rule.name} "${value}" contains ${describe(bad)} at position ${index + 1}, which is not in ` +
        'GS1 character set 82 (no spaces, no # $ @ [ \\ ] ^ ` { | } ~, and no parentheses on a label)',
      { field, ai, position: index + 1 },
    );
  }
}

/**
 * The element string a GS1 scanner delivers after the symbology identifier: AI + value in the given order,
 * with `separator` (GS) after each variable-length value that is not last.
 */
export function gs1ElementString(elements: readonly Gs1Element[], separator = GS): string {
  return elements
    .map(({ ai, value }, i) => {
      const variable = AI_RULES[ai]?.kind !== 'numeric';
      return `${ai}${value}${variable && i < elements.length - 1 ? separator : ''}`;
    })
    .join('');
}

/** What the renderer needs once a label has passed the check. */
export interface CheckedVialLabel {
  elements: Gs1Element[];
  gtin: string;
  /** (17) as encoded, YYMMDD. */
  expiryYymmdd: string;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function requireText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') {
    return fail(ProblemCode.ValidationFailed, `${field} is required`, { field });
  }
  if (value.length > max) {
    fail(ProblemCode.ValidationFailed, `${field} is longer than ${max} characters`, { field });
  }
  const control = CONTROL.exec(value);
  if (control) {
    fail(ProblemCode.ValidationFailed, `${field} contains ${describe(control[0])}`, { field });
  }
  return value;
}

/**
 * Checks one label completely before anything is drawn: the element string, the presence of (01) (17) (10)
 * (21), and that the printed LOT, SN, EXP and the Digital Link say the same as the symbol. `path` prefixes
 * field names in errors (e.g. `labels[3].`).
 */
export function checkVialLabel(label: VialLabel, path = ''): CheckedVialLabel {
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
  if (typeof label.humanReadable !== 'string') {
    fail(ProblemCode.Gs1Empty, `${f('humanReadable')} is required`, { field: f('humanReadable') });
  }

  const elements = parseHumanReadable(label.humanReadable, f('humanReadable'));
  const byAi = new Map(elements.map((e) => [e.ai, e.value]));
  const missing = VIAL_AIS.filter((ai) => !byAi.has(ai));
  if (missing.length > 0) {
    fail(
      ProblemCode.Gs1Requisite,
      `a vial label must carry ${VIAL_AIS.map((a) => `(${a})`).join(' ')}; missing ${missing.map((a) => `(${a})`).join(' ')}`,
      { field: f('humanReadable'), ai: missing[0] },
    );
  }
  const gtin = byAi.get('01') ?? '';
  const expiryYymmdd = byAi.get('17') ?? '';

  if (byAi.get('10') !== label.lot) {
    fail(
      ProblemCode.ValidationFailed,
      `lot "${label.lot}" differs from (10) "${byAi.get('10')}" in the symbol`,
      {
        field: f('lot'),
        ai: '10',
      },
    );
  }
  if (byAi.get('21') !== label.serial) {
    fail(
      ProblemCode.ValidationFailed,
      `serial "${label.serial}" differs from (21) "${byAi.get('21')}" in the symbol`,
      { field: f('serial'), ai: '21' },
    );
  }
  checkExpiry(label.expiry, expiryYymmdd, f('expiry'));
  checkDigitalLink(label.digitalLink, byAi, f('digitalLink'));
  return { elements, gtin, expiryYymmdd };
}

function checkExpiry(iso: string, yymmdd: string, field: string): void {
  const m = ISO_DATE.exec(iso);
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  const day = Number(m?.[3]);
  if (!m || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    fail(ProblemCode.ValidationFailed, `expiry "${iso}" is not an ISO calendar date YYYY-MM-DD`, { field });
  }
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  const dd = Number(yymmdd.slice(4, 6));
  const agrees =
    year % 100 === yy && month === mm && (dd === 0 ? day === daysInMonth(year, month) : day === dd);
  if (!agrees) {
    fail(
      ProblemCode.ValidationFailed,
      `expiry ${iso} differs from (17) ${yymmdd} in the symbol` +
        (dd === 0 ? ' (day 00 reads as the last day of the month)' : ''),
      { field, ai: '17' },
    );
  }
  // (17) with a valid month and year now agrees with a real ISO date, so 29 February is settled too.
}

/**
 * The Digital Link must name the same item: its (01) must be the symbol's GTIN, and any (10), (21) path
 * qualifier or `17` query attribute present must equal the symbol's. Host and stem are free (GS1 allows any).
 */
function checkDigitalLink(uri: string, byAi: ReadonlyMap<string, string>, field: string): void {
  const refuse = (why: string): never =>
    fail(ProblemCode.Gs1DigitalLink, `digital link "${uri}" ${why}`, { field });
  if (/\s/.test(uri)) refuse('contains white space');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return refuse('is not an absolute URI');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse('is not an http(s) URI');
  const segments = url.pathname.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop(); // a trailing slash
  let key = -1;
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i] === '01' && /^\d{14}$/.test(segments[i + 1] ?? '')) key = i;
  }
  if (key === -1) refuse('has no /01/{GTIN-14} path');
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return refuse(`has a malformed percent-encoding in "${s}"`);
    }
  };
  const found = new Map<string, string>();
  for (let i = key; i < segments.length; i += 2) {
    const ai = segments[i] ?? '';
    const value = segments[i + 1];
    if (value === undefined) refuse(`has AI ${ai} without a value`);
    found.set(ai, decode(value ?? ''));
  }
  for (const [ai, value] of url.searchParams) {
    if (/^\d{2,4}$/.test(ai)) found.set(ai, value);
  }
  for (const [ai, value] of found) {
    const expected = byAi.get(ai);
    if (expected !== undefined && expected !== value) {
      refuse(`says (${ai}) "${value}" but the symbol says "${expected}"`);
    }
  }
}
