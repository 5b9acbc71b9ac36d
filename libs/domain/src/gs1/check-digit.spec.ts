import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '../domain-error.js';
import { generateSscc, gs1CheckDigit, hasValidGs1CheckDigit } from './check-digit.js';

function refusal(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** Deterministic PRNG (mulberry32) so a failing loop can be replayed. */
function randomDigits(seed: number): (length: number) => string {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (length) => Array.from({ length }, () => Math.floor(next() * 10)).join('');
}

describe('GS1 mod-10 check digit (GS1 General Specifications §7.9.1)', () => {
  it.each([
    ['0952001234567', 4],
    ['1234567890123', 1],
    ['09520012345678901', 6],
    ['0000000000000', 0],
    ['9', 3],
  ])('the check digit of %s is %d', (data, check) => {
    expect(gs1CheckDigit(data)).toBe(check);
  });

  it.each(['09520012345674', '12345678901231', '095200123456789016', '96385074'])('%s verifies', (key) => {
    expect(hasValidGs1CheckDigit(key)).toBe(true);
  });

  it.each(['09520012345675', '095200123456789017', '0952001234567A', '', '4', ' 09520012345674'])(
    '%j does not verify',
    (key) => {
      expect(hasValidGs1CheckDigit(key)).toBe(false);
    },
  );

  it.each(['', '12a', '１２'])('refuses to compute over %j', (data) => {
    expect(() => gs1CheckDigit(data)).toThrow(RangeError);
  });

  it('catches every single-digit error of 500 random GTIN-14s, and survives zero-padding', () => {
    const digits = randomDigits(20260114);
    for (let n = 0; n < 500; n++) {
      const data = digits(13);
      const gtin = `${data}${gs1CheckDigit(data)}`;
      expect(hasValidGs1CheckDigit(gtin)).toBe(true);
      expect(hasValidGs1CheckDigit(`0000${gtin}`)).toBe(true);
      const at = n % 14;
      const wrong = (Number(gtin[at]) + 1 + (n % 9)) % 10;
      expect(hasValidGs1CheckDigit(`${gtin.slice(0, at)}${wrong}${gtin.slice(at + 1)}`)).toBe(false);
    }
  });
});

describe('generateSscc', () => {
  it('writes extension digit, company prefix, zero-padded serial reference and check digit', () => {
    expect(generateSscc(0, '9520012', '345678901')).toBe('095200123456789016');
    expect(generateSscc(3, '0952001', 42)).toBe('309520010000000422');
    expect(generateSscc(9, '123456789012', 0)).toMatch(/^91234567890120000\d$/);
  });

  it('always yields 18 digits with a valid check digit', () => {
    const digits = randomDigits(7);
    for (let n = 0; n < 200; n++) {
      const prefixLength = 4 + (n % 9);
      const sscc = generateSscc(n % 10, digits(prefixLength), digits(16 - prefixLength));
      expect(sscc).toMatch(/^\d{18}$/);
      expect(hasValidGs1CheckDigit(sscc)).toBe(true);
    }
  });

  it.each([
    [10, '9520012', 1, ProblemCode.Gs1Charset, 'extensionDigit'],
    [-1, '9520012', 1, ProblemCode.Gs1Charset, 'extensionDigit'],
    [1.5, '9520012', 1, ProblemCode.Gs1Charset, 'extensionDigit'],
    [0, '952', 1, ProblemCode.Gs1Length, 'companyPrefix'],
    [0, '1234567890123', 1, ProblemCode.Gs1Length, 'companyPrefix'],
    [0, '95200A2', 1, ProblemCode.Gs1Length, 'companyPrefix'],
    [0, '9520012', '1234567890', ProblemCode.Gs1Length, 'serialReference'],
    [0, '123456789012', 12345, ProblemCode.Gs1Length, 'serialReference'],
    [0, '9520012', '12a', ProblemCode.Gs1Charset, 'serialReference'],
    [0, '9520012', '', ProblemCode.Gs1Charset, 'serialReference'],
    [0, '9520012', -1, ProblemCode.Gs1Charset, 'serialReference'],
    [0, '9520012', 2.5, ProblemCode.Gs1Charset, 'serialReference'],
  ])('refuses (%j, %j, %j) with %s on %s', (extension, prefix, serial, code, field) => {
    const error = refusal(() => generateSscc(extension, prefix, serial));
    expect(error.code).toBe(code);
    expect(error.extensions).toEqual({ ai: '00', field });
  });
});
