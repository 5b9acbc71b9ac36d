import { ProblemCode } from '@lyotrace/contracts';
import { FixedClock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import {
  formatDigitalLink,
  formatElementString,
  formatHumanReadable,
  GS,
  parseDigitalLink,
  parseElementString,
  resolveScanSubject,
} from './index.js';

/** Every example of /work/shared/standards/GS1.md, through the public entry. */
const clock = new FixedClock(new Date('2026-01-14T09:00:00Z'));
const scan = (raw: string): ReturnType<typeof parseElementString> => parseElementString(raw, clock);

function refusal(raw: string): DomainError {
  try {
    scan(raw);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

const vial = (gtin = '09520012345674', expiry = '271200'): string =>
  `]d201${gtin}17${expiry}10LYO24A01${GS}21V0001`;

describe('GS1.md examples', () => {
  it('`]d2 0109520012345674 17271200 10LYO24A01<GS>21V0001`: GTIN, expiry 2027-12-31 (DD=00), lot, serial', () => {
    expect(scan(vial())).toMatchObject({
      symbology: 'gs1-datamatrix',
      gtin: '09520012345674',
      expiry: '2027-12-31',
      expiryRaw: '271200',
      lot: 'LYO24A01',
      serial: 'V0001',
    });
  });

  it('same with GTIN 09520012345675: invalid, check digit of (01)', () => {
    expect(refusal(vial('09520012345675'))).toMatchObject({
      code: ProblemCode.Gs1CheckDigit,
      extensions: { ai: '01', position: 3 },
    });
  });

  it('same with 17271300: invalid, month 13', () => {
    const error = refusal(vial(undefined, '271300'));
    expect(error).toMatchObject({ code: ProblemCode.Gs1Date, extensions: { ai: '17', position: 19 } });
    expect(error.message).toMatch(/month must be 01 to 12, got 13/);
  });

  it('same with 17280229: valid, 2028 is a leap year', () => {
    expect(scan(vial(undefined, '280229'))).toMatchObject({ expiry: '2028-02-29', expiryRaw: '280229' });
  });

  it('`]d2`: invalid, empty', () => {
    expect(refusal(']d2')).toMatchObject({ code: ProblemCode.Gs1Empty, extensions: { position: 3 } });
  });

  it('`]d221V0001`: invalid, (21) requires (01)', () => {
    expect(refusal(']d221V0001')).toMatchObject({
      code: ProblemCode.Gs1Requisite,
      extensions: { ai: '21', position: 3 },
    });
  });

  it('`]d200095200123456789016`: valid SSCC', () => {
    expect(scan(']d200095200123456789016')).toEqual({
      symbology: 'gs1-datamatrix',
      ais: [{ ai: '00', value: '095200123456789016' }],
      sscc: '095200123456789016',
    });
  });

  it('`^0112345678901231991234` (^ = FNC1): valid, fixed-length (01) runs straight into (99)', () => {
    expect(scan('^0112345678901231991234')).toEqual({
      symbology: 'none',
      ais: [
        { ai: '01', value: '12345678901231' },
        { ai: '99', value: '1234' },
      ],
      gtin: '12345678901231',
    });
  });

  it('a missing GS is not an error: `…10LYO24A0121V0001` is lot LYO24A0121V0001 and no serial', () => {
    const merged = scan(']d20109520012345674172712001' + '0LYO24A0121V0001');
    expect(merged.lot).toBe('LYO24A0121V0001');
    expect(merged.serial).toBeUndefined();
  });

  it('…and where a vial is expected that scan is refused as GS1_SERIAL_MISSING, naming (21)', () => {
    const merged = scan(']d20109520012345674172712001' + '0LYO24A0121V0001');
    let error: unknown;
    try {
      resolveScanSubject(merged, 'vial');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: ProblemCode.Gs1SerialMissing, extensions: { ai: '21' } });
    expect(resolveScanSubject(scan(vial()), 'vial')).toMatchObject({
      gtin: '09520012345674',
      serial: 'V0001',
    });
  });

  describe('element string ↔ Digital Link', () => {
    const HUMAN_READABLE = '(01)09520012345674(17)271200(10)LYO24A01(21)V0001';
    const DIGITAL_LINK = 'https://id.gs1.org/01/09520012345674/10/LYO24A01/21/V0001?17=271200';

    it('element string → Digital Link and human-readable form, exactly', () => {
      const { ais } = scan(vial());
      expect(formatHumanReadable(ais)).toBe(HUMAN_READABLE);
      expect(formatDigitalLink(ais)).toBe(DIGITAL_LINK);
    });

    it('Digital Link → element string and human-readable form, exactly', () => {
      const { ais } = parseDigitalLink(DIGITAL_LINK, clock);
      expect(formatHumanReadable(ais)).toBe(HUMAN_READABLE);
      expect(formatElementString(ais, { symbology: ']d2', gs: GS })).toBe(vial());
    });

    it('the same URI scanned from a plain QR code reads as the same vial', () => {
      const fromQr = scan(`]Q1${DIGITAL_LINK}`);
      const fromDataMatrix = scan(vial());
      expect(fromQr).toMatchObject({ symbology: 'qr', digitalLinkBase: 'https://id.gs1.org' });
      for (const field of ['gtin', 'lot', 'serial', 'expiry', 'expiryRaw'] as const) {
        expect(fromQr[field]).toBe(fromDataMatrix[field]);
      }
    });
  });
});
