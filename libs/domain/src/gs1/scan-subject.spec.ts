import { ProblemCode } from '@lyotrace/contracts';
import { FixedClock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { type Gs1Identification } from './application-identifiers.js';
import { parseDigitalLink } from './digital-link.js';
import { GS, parseElementString } from './element-string.js';
import { parseHumanReadable } from './human-readable.js';
import { classifyScan, resolveScanSubject, type ScanExpectation } from './scan-subject.js';

const clock = new FixedClock(new Date('2026-06-15T12:00:00Z'));
const scan = (raw: string): Gs1Identification => parseElementString(raw, clock);

const GTIN = '09520012345674';
const SSCC = '095200123456789016';
const VIAL = `]d201${GTIN}17271200` + `10LYO24A01${GS}21V0001`;
/** The same vial through a keyboard wedge that dropped the GS: lot and serial run together. */
const VIAL_WITHOUT_GS = `]d201${GTIN}17271200` + `10LYO24A01` + `21V0001`;
const SHIPPER = `]d200${SSCC}`;
const LOT = `]d201${GTIN}17271200` + `10LYO24A01`;

/** Asserts that `action` is refused with `code`, exactly `extensions`, and a message matching `message`. */
function expectRefusal(
  action: () => unknown,
  code: ProblemCode,
  extensions: Record<string, unknown>,
  message: RegExp,
): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  const { code: actual, extensions: actualExtensions, message: text } = thrown as DomainError;
  expect({ code: actual, extensions: actualExtensions }).toEqual({ code, extensions });
  expect(text).toMatch(message);
}

describe('classifyScan', () => {
  it('reads (01) + (21) as a vial (SGTIN), with its lot and expiry', () => {
    expect(classifyScan(scan(VIAL))).toEqual({
      kind: 'vial',
      gtin: GTIN,
      serial: 'V0001',
      lot: 'LYO24A01',
      expiry: '2027-12-31',
    });
    expect(classifyScan(scan(`01${GTIN}21V0001`))).toEqual({ kind: 'vial', gtin: GTIN, serial: 'V0001' });
  });

  it('reads (00) as a shipper, even with a (01) describing the unit', () => {
    expect(classifyScan(scan(SHIPPER))).toEqual({ kind: 'shipper', sscc: SSCC });
    expect(classifyScan(scan(`00${SSCC}01${GTIN}`))).toEqual({ kind: 'shipper', sscc: SSCC });
  });

  it('reads (01) without (21) as a trade item: a product, or a lot with (10)', () => {
    expect(classifyScan(scan(`01${GTIN}`))).toEqual({ kind: 'trade-item', gtin: GTIN });
    expect(classifyScan(scan(LOT))).toEqual({
      kind: 'trade-item',
      gtin: GTIN,
      lot: 'LYO24A01',
      expiry: '2027-12-31',
    });
  });

  it('never splits a lot that swallowed the serial: it is a trade item whose lot holds the serial', () => {
    expect(classifyScan(scan(VIAL_WITHOUT_GS))).toEqual({
      kind: 'trade-item',
      gtin: GTIN,
      lot: 'LYO24A0121V0001',
      expiry: '2027-12-31',
    });
  });

  it('classifies a Digital Link and the human-readable text the same way', () => {
    const link = `https://id.gs1.org/01/${GTIN}/10/LYO24A01/21/V0001?17=271200`;
    const expected = classifyScan(scan(VIAL));
    expect(classifyScan(parseDigitalLink(link, clock))).toEqual(expected);
    expect(classifyScan(parseHumanReadable(`(01)${GTIN}(17)271200(10)LYO24A01(21)V0001`, clock))).toEqual(
      expected,
    );
    expect(classifyScan(parseDigitalLink(`https://example.com/00/${SSCC}`, clock))).toEqual({
      kind: 'shipper',
      sscc: SSCC,
    });
  });

  it('refuses a scan that holds no key, naming its first AI', () => {
    expectRefusal(
      () => classifyScan(scan('991234')),
      ProblemCode.Gs1Requisite,
      { ai: '99' },
      /\(99\) company internal information identifies nothing on its own/,
    );
  });
});

describe('resolveScanSubject', () => {
  it.each<[string, ScanExpectation, string]>([
    ['a vial', 'vial', VIAL],
    ['a vial', 'vial-or-shipper', VIAL],
    ['a vial', 'any', VIAL],
    ['a shipper', 'shipper', SHIPPER],
    ['a shipper', 'vial-or-shipper', SHIPPER],
    ['a shipper', 'any', SHIPPER],
    ['a lot', 'any', LOT],
  ])('takes %s where %s is expected', (_what, expected, raw) => {
    expect(resolveScanSubject(scan(raw), expected)).toEqual(classifyScan(scan(raw)));
  });

  it('returns the subject typed for what was expected', () => {
    const vial = resolveScanSubject(scan(VIAL), 'vial');
    expect(`${vial.gtin}/${vial.serial}`).toBe(`${GTIN}/V0001`);
    expect(resolveScanSubject(scan(SHIPPER), 'shipper').sscc).toBe(SSCC);
    expect(resolveScanSubject(scan(LOT)).kind).toBe('trade-item');
  });

  describe('a would-be vial without (21): GS1_SERIAL_MISSING, never guessed', () => {
    it.each<[string, ScanExpectation]>([
      ['vial', 'vial'],
      ['vial-or-shipper', 'vial-or-shipper'],
    ])(
      'refuses a lost-GS scan where a %s is expected, and says why it may have happened',
      (_name, expected) => {
        expect(ProblemCode.Gs1SerialMissing.startsWith('GS1_')).toBe(true);
        expectRefusal(
          () => resolveScanSubject(scan(VIAL_WITHOUT_GS), expected),
          ProblemCode.Gs1SerialMissing,
          { ai: '21' },
          /^\(21\) serial is missing.*"LYO24A0121V0001" holds "21": if the scanner dropped the GS separator/,
        );
      },
    );

    it.each([
      ['a lot scan', LOT],
      ['a bare GTIN', `01${GTIN}`],
      ['a Digital Link of a lot', `https://id.gs1.org/01/${GTIN}/10/LYO24A01`],
    ])('refuses %s, without the lost-GS hint when the lot does not hold "21"', (_what, raw) => {
      const identification = raw.startsWith('https:') ? parseDigitalLink(raw, clock) : scan(raw);
      expectRefusal(
        () => resolveScanSubject(identification, 'vial'),
        ProblemCode.Gs1SerialMissing,
        { ai: '21' },
        /^\(21\) serial is missing((?!dropped).)*$/,
      );
    });

    it('does not take a lot ending in "21" for a merged serial', () => {
      expectRefusal(
        () => resolveScanSubject(scan(`01${GTIN}10LYO21`), 'vial'),
        ProblemCode.Gs1SerialMissing,
        { ai: '21' },
        /^((?!dropped).)*$/,
      );
    });
  });

  it.each<[string, ScanExpectation, string, string, RegExp]>([
    ['a shipper', 'vial', SHIPPER, '01', /vial scan needs \(01\) GTIN with \(21\) serial; this is a shipper/],
    ['a vial', 'shipper', VIAL, '00', /shipper scan needs \(00\) SSCC; this is a vial/],
    ['a lot', 'shipper', LOT, '00', /this is a trade item with \(01\) GTIN 09520012345674/],
  ])(
    'refuses %s where a %s is expected, GS1_REQUISITE naming the missing key',
    (_what, expected, raw, ai, message) => {
      expectRefusal(() => resolveScanSubject(scan(raw), expected), ProblemCode.Gs1Requisite, { ai }, message);
    },
  );
});
