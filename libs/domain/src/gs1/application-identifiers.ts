import { ProblemCode } from '@lyotrace/contracts';
import { gs1CheckDigit } from './check-digit.js';
import { daysInMonth } from '../calendar.js';
import { type Gs1DayZero, gs1DateToIso } from './gs1-date.js';
import { gs1Refusal } from './gs1-refusal.js';

/**
 * The GS1 Application Identifiers this project reads and writes. (99) is here only because a fixed-length AI
 * running straight into it is the GS1.md example of a valid string; its value is kept opaque (no typed
 * field), as the GS1 General Specifications leave its meaning to the company.
 */
export type Gs1Ai = '00' | '01' | '10' | '11' | '17' | '21' | '99';

/** One AI and its value as carried in the data: check digit included, dates as YYMMDD, no escaping. */
export interface Gs1Element {
  readonly ai: Gs1Ai;
  readonly value: string;
}

/** What a GS1 payload says, in data order (`ais`) and as typed fields for the AIs callers act on. */
export interface Gs1Identification {
  readonly ais: readonly Gs1Element[];
  /** (00) SSCC, 18 digits. */
  readonly sscc?: string;
  /** (01) GTIN, always 14 digits. */
  readonly gtin?: string;
  /** (10) batch/lot. */
  readonly lot?: string;
  /** (21) serial number. */
  readonly serial?: string;
  /**
   * (11) production date, ISO `YYYY-MM-DD`. DD = 00 ("day not specified", allowed by the GS1 Barcode Syntax
   * Dictionary, `N6,yymmd0`) is read as the FIRST day of that month: the earliest the item can have been made,
   * the safe end for its age. `productionDateRaw` keeps the data as carried.
   */
  readonly productionDate?: string;
  /** (11) exactly as carried, YYMMDD. */
  readonly productionDateRaw?: string;
  /**
   * (17) expiry date, ISO `YYYY-MM-DD`. GS1 General Specifications §3.4.5: DD = 00 means "day not
   * specified" and is read as the LAST day of that month (`271200` → `2027-12-31`); `expiryRaw` keeps the
   * data as carried.
   */
  readonly expiry?: string;
  /** (17) exactly as carried, YYMMDD. */
  readonly expiryRaw?: string;
}

/**
 * A trade item instance as our labels carry it. `expiry` is ISO `YYYY-MM-DD`, or `YYYY-MM` when the day is
 * not specified (written as DD = 00). A YYMMDD date has no century: it is read back by the GS1 sliding
 * window, so only dates within −49…+50 years of the reader's year come back unchanged.
 */
export interface Gs1TradeItem {
  readonly gtin: string;
  readonly lot?: string;
  readonly serial?: string;
  readonly expiry?: string;
}

/** What the formatters take: typed fields, or AIs with their values (e.g. the `ais` of a parsed scan). */
export type Gs1Content = Gs1TradeItem | readonly Gs1Element[];

interface AiDefinition {
  readonly title: string;
  /** `key`: digits with a mod-10 check digit; `date`: YYMMDD; `text`: GS1 character set 82. */
  readonly format: 'key' | 'date' | 'text';
  /** Exact length when `fixed`, else the maximum. */
  readonly length: number;
  readonly fixed: boolean;
  /**
   * GS1 General Specifications §4.14.2 (mandatory associations), as GS1.md lists them and the GS1 Barcode
   * Syntax Dictionary states them (`req=01,…`: of the AIs we read, only (01) qualifies).
   */
  readonly requires?: Gs1Ai;
  /** Dates only: how DD = 00 reads; absent, DD = 00 is refused. */
  readonly dayZero?: Gs1DayZero;
}

const DEFINITIONS: Readonly<Record<Gs1Ai, AiDefinition>> = {
  '00': { title: 'SSCC', format: 'key', length: 18, fixed: true },
  '01': { title: 'GTIN', format: 'key', length: 14, fixed: true },
  '10': { title: 'batch/lot', format: 'text', length: 20, fixed: false, requires: '01' },
  '11': {
    title: 'production date',
    format: 'date',
    length: 6,
    fixed: true,
    requires: '01',
    dayZero: 'first-day-of-month',
  },
  // GS1 General Specifications §3.4.5 (AI 17): DD = 00 means the end of that month.
  '17': {
    title: 'expiry date',
    format: 'date',
    length: 6,
    fixed: true,
    requires: '01',
    dayZero: 'last-day-of-month',
  },
  '21': { title: 'serial', format: 'text', length: 20, fixed: false, requires: '01' },
  '99': { title: 'company internal information', format: 'text', length: 90, fixed: false },
};

/** In AI order (an object's keys would put `10`…`99` before `00`, `01`: integer-like keys go first). */
export const SUPPORTED_AIS: readonly Gs1Ai[] = ['00', '01', '10', '11', '17', '21', '99'];

export function isSupportedAi(ai: string): ai is Gs1Ai {
  return Object.hasOwn(DEFINITIONS, ai);
}

export function aiDefinition(ai: Gs1Ai): AiDefinition {
  return DEFINITIONS[ai];
}

export const aiLabel = (ai: Gs1Ai): string => `(${ai}) ${DEFINITIONS[ai].title}`;

/** GS1 General Specifications Figure 7.11-1, character set 82: printable ASCII less space and `#$@[\]^`{|}~`. */
const CHARACTER_SET_82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]$/;

export function isInCharacterSet82(char: string): boolean {
  return CHARACTER_SET_82.test(char);
}

/** `'#' (U+0023)`, or just `U+001E` for what cannot be shown. */
export function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return codePoint > 0x20 && codePoint < 0x7f ? `'${String.fromCodePoint(codePoint)}' (${hex})` : hex;
}

/** Where an element sits in a raw scan, for `position` in refusals; absent for Digital Link values. */
export interface ElementPosition {
  /** Offset of the AI's first digit. */
  readonly ai: number;
  /** Offset of the value's first character. */
  readonly value: number;
}

function unknownAiMessage(ai: string): string {
  return `AI (${ai}) is not supported: only ${SUPPORTED_AIS.map((a) => `(${a})`).join(', ')} are read`;
}

/** @throws DomainError GS1_UNKNOWN_AI naming the AI */
export function unknownAi(ai: string, position?: number): never {
  throw gs1Refusal(ProblemCode.Gs1UnknownAi, unknownAiMessage(ai), { ai, position });
}

/** @throws DomainError GS1_DUPLICATE_AI naming the AI */
export function duplicateAi(ai: Gs1Ai, position?: number): never {
  throw gs1Refusal(ProblemCode.Gs1DuplicateAi, `${aiLabel(ai)} appears more than once`, { ai, position });
}

/**
 * Checks one value against its AI's format: length, character set, check digit, calendar date.
 *
 * @param resolveYear YY → full year (the GS1 sliding window when reading a scan), for month lengths and leap years
 * @throws DomainError GS1_LENGTH, GS1_CHARSET, GS1_CHECK_DIGIT or GS1_DATE, with `ai` (and `position`)
 */
export function checkElementValue(
  ai: Gs1Ai,
  value: string,
  resolveYear: (yy: number) => number,
  at?: ElementPosition,
): void {
  const definition = DEFINITIONS[ai];
  const label = aiLabel(ai);
  if (
    definition.fixed
      ? value.length !== definition.length
      : value.length < 1 || value.length > definition.length
  ) {
    const expected = definition.fixed
      ? `exactly ${definition.length} digits`
      : `1 to ${definition.length} characters`;
    throw gs1Refusal(ProblemCode.Gs1Length, `${label} must be ${expected}, got ${value.length}`, {
      ai,
      position: at?.ai,
    });
  }
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    const allowed = definition.format === 'text' ? isInCharacterSet82(char) : char >= '0' && char <= '9';
    if (!allowed) {
      const rule = definition.format === 'text' ? 'may only use GS1 character set 82' : 'must be digits only';
      throw gs1Refusal(
        ProblemCode.Gs1Charset,
        `${label} ${rule}; ${describeCharacter(value.codePointAt(i) ?? 0)} at character ${i + 1} is not`,
        { ai, position: at === undefined ? undefined : at.value + i },
      );
    }
  }
  if (definition.format === 'key') {
    const expected = gs1CheckDigit(value.slice(0, -1));
    if (expected !== Number(value.slice(-1))) {
      throw gs1Refusal(
        ProblemCode.Gs1CheckDigit,
        `${label} ${value} has a wrong check digit: expected ${expected}, got ${value.slice(-1)}`,
        { ai, position: at?.ai },
      );
    }
  }
  if (definition.format === 'date') {
    gs1DateToIso(value, resolveYear, { ai, dayZero: definition.dayZero, position: at?.ai });
  }
}

/**
 * Rules over the whole set of AIs: no AI twice (GS1 General Specifications §4.14.1; we refuse even equal
 * repeats), and (10), (11), (17), (21) only together with (01).
 *
 * @param positions offsets of each element's AI in the raw scan, same order as `elements`
 * @throws DomainError GS1_DUPLICATE_AI or GS1_REQUISITE naming the AI
 */
export function checkElementCombination(
  elements: readonly Gs1Element[],
  positions: readonly (number | undefined)[] = [],
): void {
  const seen = new Set<Gs1Ai>();
  elements.forEach(({ ai }, index) => {
    if (seen.has(ai)) duplicateAi(ai, positions[index]);
    seen.add(ai);
  });
  elements.forEach(({ ai }, index) => {
    const required = DEFINITIONS[ai].requires;
    if (required !== undefined && !seen.has(required)) {
      throw gs1Refusal(
        ProblemCode.Gs1Requisite,
        `${aiLabel(ai)} requires ${aiLabel(required)} in the same data`,
        { ai, position: positions[index] },
      );
    }
  });
}

/** The typed view of checked elements. */
export function identify(
  elements: readonly Gs1Element[],
  resolveYear: (yy: number) => number,
): Gs1Identification {
  const valueOf = (ai: Gs1Ai): string | undefined => elements.find((element) => element.ai === ai)?.value;
  const sscc = valueOf('00');
  const gtin = valueOf('01');
  const lot = valueOf('10');
  const serial = valueOf('21');
  const produced = valueOf('11');
  const expiryRaw = valueOf('17');
  const toIso = (ai: Gs1Ai, raw: string): string =>
    gs1DateToIso(raw, resolveYear, { ai, dayZero: DEFINITIONS[ai].dayZero });
  return {
    ais: elements.map(({ ai, value }) => ({ ai, value })),
    ...(sscc === undefined ? {} : { sscc }),
    ...(gtin === undefined ? {} : { gtin }),
    ...(lot === undefined ? {} : { lot }),
    ...(serial === undefined ? {} : { serial }),
    ...(produced === undefined ? {} : { productionDate: toIso('11', produced), productionDateRaw: produced }),
    ...(expiryRaw === undefined ? {} : { expiry: toIso('17', expiryRaw), expiryRaw }),
  };
}

/**
 * YY for a formatter, which has no clock: every date we print falls in 2000–2099, and `yy % 4` gives the
 * right leap years there. The parser, which has a clock, applies the real sliding window.
 */
const formattingYear = (yy: number): number => 2000 + yy;

function isElementList(content: Gs1Content): content is readonly Gs1Element[] {
  return Array.isArray(content);
}

/** `YYYY-MM-DD` → YYMMDD, `YYYY-MM` → YYMM00. */
function expiryFromIso(iso: string): string {
  const match = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(iso);
  const [, year, month, day] = match ?? [];
  if (year === undefined || month === undefined) {
    throw gs1Refusal(
      ProblemCode.Gs1Date,
      `(17) expiry date must be an ISO date YYYY-MM-DD, or YYYY-MM when the day is not specified; got "${iso}"`,
      { ai: '17', field: 'expiry' },
    );
  }
  const monthNumber = Number(month);
  const last = monthNumber >= 1 && monthNumber <= 12 ? daysInMonth(Number(year), monthNumber) : 31;
  if (day !== undefined && Number(day) === 0) {
    throw gs1Refusal(
      ProblemCode.Gs1Date,
      `(17) expiry date day must be 01 to ${last}; write YYYY-MM for "no day"`,
      {
        ai: '17',
        field: 'expiry',
      },
    );
  }
  const yymmdd = `${year.slice(2)}${month}${day ?? '00'}`;
  // The true year, not the formatter's guess: an ISO date states its century.
  gs1DateToIso(yymmdd, () => Number(year), { ai: '17', dayZero: 'last-day-of-month' });
  return yymmdd;
}

/**
 * The elements of formatter input, each value and the whole set checked as a parse would check them.
 *
 * @throws DomainError with a GS1_ code naming the AI
 */
export function elementsOf(content: Gs1Content): Gs1Element[] {
  let elements: Gs1Element[];
  if (isElementList(content)) {
    elements = content.map((element) => {
      const ai: string = element.ai;
      if (!isSupportedAi(ai)) unknownAi(ai);
      return { ai, value: element.value };
    });
  } else {
    elements = [{ ai: '01', value: content.gtin }];
    if (content.expiry !== undefined) elements.push({ ai: '17', value: expiryFromIso(content.expiry) });
    if (content.lot !== undefined) elements.push({ ai: '10', value: content.lot });
    if (content.serial !== undefined) elements.push({ ai: '21', value: content.serial });
  }
  for (const element of elements) checkElementValue(element.ai, element.value, formattingYear);
  checkElementCombination(elements);
  return elements;
}

/** Fixed-length AIs first (they need no separator), each group in its given order. */
export function fixedLengthFirst(elements: readonly Gs1Element[]): Gs1Element[] {
  return [
    ...elements.filter(({ ai }) => DEFINITIONS[ai].fixed),
    ...elements.filter(({ ai }) => !DEFINITIONS[ai].fixed),
  ];
}
