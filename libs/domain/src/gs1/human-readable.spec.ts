import { ProblemCode } from '@lyotrace/contracts';
import { FixedClock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { type Gs1Element } from './application-identifiers.js';
import { gs1CheckDigit } from './check-digit.js';
import { formatHumanReadable, GS, parseElementString } from './element-string.js';
import { parseHumanReadable } from './human-readable.js';

const clock = new FixedClock(new Date('2026-06-15T12:00:00Z'));
const HRI = '(01)09520012345674(17)271200(10)LYO24A01(21)V0001';

function refusal(text: string, at = clock): DomainError {
  try {
    parseHumanReadable(text, at);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} was accepted`);
}

describe('parseHumanReadable', () => {
  it('reads what the element string of the same vial says', () => {
    const scan = parseElementString(`]d2010952001234567417271200` + `10LYO24A01${GS}21V0001`, clock);
    const { symbology: _symbology, ...fromElementString } = scan;
    expect(parseHumanReadable(HRI, clock)).toEqual(fromElementString);
    expect(parseHumanReadable(HRI, clock)).toMatchObject({
      gtin: '09520012345674',
      lot: 'LYO24A01',
      serial: 'V0001',
      expiry: '2027-12-31',
      expiryRaw: '271200',
    });
  });

  it('reads an SSCC, AIs in any order, and a production date', () => {
    expect(parseHumanReadable('(00)095200123456789016', clock)).toEqual({
      ais: [{ ai: '00', value: '095200123456789016' }],
      sscc: '095200123456789016',
    });
    expect(parseHumanReadable('(21)V1(10)L(11)260100(01)09520012345674', clock)).toMatchObject({
      ais: [
        { ai: '21', value: 'V1' },
        { ai: '10', value: 'L' },
        { ai: '11', value: '260100' },
        { ai: '01', value: '09520012345674' },
      ],
      productionDate: '2026-01-01',
    });
  });

  it('takes ")" as data: only "(" can open an AI', () => {
    expect(parseHumanReadable('(01)09520012345674(10)A)B(21)V)', clock)).toMatchObject({
      lot: 'A)B',
      serial: 'V)',
    });
  });

  it('reads the century from the clock by the GS1 sliding window', () => {
    const in2075 = new FixedClock(new Date('2075-01-01T00:00:00Z'));
    expect(parseHumanReadable('(01)09520012345674(17)251231', in2075).expiry).toBe('2125-12-31');
    expect(parseHumanReadable('(01)09520012345674(17)251231', clock).expiry).toBe('2025-12-31');
  });

  it.each<[string, ProblemCode, Record<string, unknown>, RegExp]>([
    ['', ProblemCode.Gs1Empty, { position: 0 }, /no data/],
    [
      '0109520012345674',
      ProblemCode.Gs1UnknownAi,
      { position: 0 },
      /in parentheses.*'0' \(U\+0030\) at character 1/,
    ],
    [` ${HRI}`, ProblemCode.Gs1UnknownAi, { position: 0 }, /U\+0020 at character 1/],
    ['(1)X', ProblemCode.Gs1UnknownAi, { position: 0 }, /in parentheses/],
    ['(02)09520012345674', ProblemCode.Gs1UnknownAi, { ai: '02', position: 0 }, /\(02\) is not supported/],
    [
      '(01)09520012345674(3103)000189',
      ProblemCode.Gs1UnknownAi,
      { ai: '3103', position: 18 },
      /\(3103\) is not supported/,
    ],
    ['(01)09520012345675', ProblemCode.Gs1CheckDigit, { ai: '01', position: 0 }, /expected 4, got 5/],
    ['(01)9520012345674', ProblemCode.Gs1Length, { ai: '01', position: 0 }, /exactly 14 digits, got 13/],
    ['(01)0952001234567(4)', ProblemCode.Gs1Length, { ai: '01', position: 0 }, /exactly 14 digits, got 16/],
    [
      '(01)09520012345674(10)A(B(21)V1',
      ProblemCode.Gs1Charset,
      { ai: '10', position: 23 },
      /'\(' at character 2.*cannot tell apart/,
    ],
    [
      '(01)09520012345674(10)LYO 24',
      ProblemCode.Gs1Charset,
      { ai: '10', position: 25 },
      /set 82; U\+0020 at character 4/,
    ],
    [`${HRI}\r\n`, ProblemCode.Gs1Charset, { ai: '21', position: 49 }, /U\+000D/],
    ['(01)09520012345674(10)(21)V1', ProblemCode.Gs1Length, { ai: '10', position: 18 }, /got 0/],
    [`(01)09520012345674(10)${'L'.repeat(21)}`, ProblemCode.Gs1Length, { ai: '10', position: 18 }, /got 21/],
    ['(01)09520012345674(17)271300', ProblemCode.Gs1Date, { ai: '17', position: 18 }, /month/],
    ['(01)09520012345674(17)270229', ProblemCode.Gs1Date, { ai: '17', position: 18 }, /01 to 28/],
    ['(01)09520012345674(11)260230', ProblemCode.Gs1Date, { ai: '11', position: 18 }, /01 to 28/],
    [
      '(01)09520012345674(10)A(10)B',
      ProblemCode.Gs1DuplicateAi,
      { ai: '10', position: 23 },
      /more than once/,
    ],
    ['(10)LYO(21)V1', ProblemCode.Gs1Requisite, { ai: '10', position: 0 }, /requires \(01\)/],
    ['(00)095200123456789016(17)271200', ProblemCode.Gs1Requisite, { ai: '17', position: 22 }, /requires/],
  ])('refuses %j with %s', (text, code, extensions, message) => {
    const error = refusal(text);
    expect(error.code).toBe(code);
    expect(error.extensions).toEqual(extensions);
    expect(error.message).toMatch(message);
  });

  it('reads back what formatHumanReadable writes, for 300 random vials', () => {
    let state = 7;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    // Set 82 less "(", the one character this form cannot carry.
    const set81 = `!"%&')*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
    expect(set81).toHaveLength(81);
    const text = (): string =>
      Array.from({ length: 1 + random(20) }, () => set81.charAt(random(81))).join('');
    for (let n = 0; n < 300; n++) {
      const data = Array.from({ length: 13 }, () => random(10)).join('');
      const elements: Gs1Element[] = [
        { ai: '01', value: `${data}${gs1CheckDigit(data)}` },
        { ai: '17', value: `${String(26 + random(20))}${String(1 + random(12)).padStart(2, '0')}00` },
        { ai: '10', value: text() },
        { ai: '21', value: text() },
      ];
      expect(parseHumanReadable(formatHumanReadable(elements), clock).ais).toEqual(elements);
    }
  });
});
