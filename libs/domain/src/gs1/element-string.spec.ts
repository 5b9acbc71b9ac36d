import { ProblemCode } from '@lyotrace/contracts';
import { FixedClock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { type Gs1Element } from './application-identifiers.js';
import { gs1CheckDigit } from './check-digit.js';
import {
  formatElementString,
  formatHumanReadable,
  GS,
  GS_SUBSTITUTES,
  parseElementString,
} from './element-string.js';

const clockIn = (year: number): FixedClock => new FixedClock(new Date(`${year}-06-15T12:00:00Z`));
const clock = clockIn(2026);

/** A vial's scan as our labels carry it; each part can be overridden. */
function vialScan(
  parts: { prefix?: string; gtin?: string; expiry?: string; lot?: string; serial?: string; gs?: string } = {},
): string {
  const {
    prefix = ']d2',
    gtin = '09520012345674',
    expiry = '271200',
    lot = 'LYO24A01',
    serial = 'V0001',
  } = parts;
  return `${prefix}01${gtin}17${expiry}10${lot}${parts.gs ?? GS}21${serial}`;
}

function refusal(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('accepted');
}

function expectRefusal(
  raw: string,
  code: ProblemCode,
  extensions: Record<string, unknown>,
  at = clock,
): DomainError {
  const error = refusal(() => parseElementString(raw, at));
  expect(error.code).toBe(code);
  expect(error.code.startsWith('GS1_')).toBe(true);
  expect(error.extensions).toEqual(extensions);
  return error;
}

const VIAL = {
  gtin: '09520012345674',
  lot: 'LYO24A01',
  serial: 'V0001',
  expiry: '2027-12-31',
  expiryRaw: '271200',
};

describe('parseElementString', () => {
  describe('symbology identifiers', () => {
    it.each([
      [']d2', 'gs1-datamatrix'],
      [']Q3', 'gs1-qr'],
      [']C1', 'gs1-128'],
      ['', 'none'],
    ])('reads an element string after %j as %s', (prefix, symbology) => {
      expect(parseElementString(vialScan({ prefix }), clock)).toEqual({
        symbology,
        ais: [
          { ai: '01', value: '09520012345674' },
          { ai: '17', value: '271200' },
          { ai: '10', value: 'LYO24A01' },
          { ai: '21', value: 'V0001' },
        ],
        ...VIAL,
      });
    });

    it.each([']d1', ']Q1'])('refuses an element string in the plain symbology %s', (prefix) => {
      const error = expectRefusal(vialScan({ prefix }), ProblemCode.Gs1Symbology, { position: 0 });
      expect(error.message).toMatch(/carries GS1 data only as a GS1 Digital Link URI/);
    });

    it.each([']X9', ']d0', ']Q', ']', ']e0'])('refuses the unknown identifier %j', (prefix) => {
      expectRefusal(`${prefix}0109520012345674`, ProblemCode.Gs1Symbology, { position: 0 });
    });

    it.each([
      [']Q1', 'qr'],
      [']d1', 'datamatrix'],
      ['', 'none'],
    ])('reads a Digital Link URI after %j (symbology %s)', (prefix, symbology) => {
      const uri = 'https://id.gs1.org/01/09520012345674/10/LYO24A01/21/V0001?17=271200';
      expect(parseElementString(`${prefix}${uri}`, clock)).toEqual({
        symbology,
        digitalLinkBase: 'https://id.gs1.org',
        ais: [
          { ai: '01', value: '09520012345674' },
          { ai: '10', value: 'LYO24A01' },
          { ai: '21', value: 'V0001' },
          { ai: '17', value: '271200' },
        ],
        ...VIAL,
      });
    });

    it('reads a Digital Link URI with a leading and a trailing GS some stacks add', () => {
      const scan = parseElementString(`${GS}HTTPS://example.com/01/09520012345674${GS}`, clock);
      expect(scan).toMatchObject({
        symbology: 'none',
        digitalLinkBase: 'HTTPS://example.com',
        gtin: VIAL.gtin,
      });
    });

    it('passes Digital Link refusals through', () => {
      const error = refusal(() => parseElementString(']Q1https://id.gs1.org/01/09520012345675', clock));
      expect(error.code).toBe(ProblemCode.Gs1CheckDigit);
      expect(error.extensions).toEqual({ ai: '01' });
    });

    it.each([']d2', ']Q3', ']C1'])('refuses a Digital Link URI in the GS1 symbology %s', (prefix) => {
      expectRefusal(`${prefix}https://id.gs1.org/01/09520012345674`, ProblemCode.Gs1Symbology, {
        position: 0,
      });
    });
  });

  describe('empty payloads', () => {
    it.each([
      ['', 0],
      [']d2', 3],
      [']Q1', 3],
      [GS, 0],
      [`]C1${GS}${GS}`, 3],
      [']d2^~|', 3],
    ])('refuses %j with GS1_EMPTY', (raw, position) => {
      expectRefusal(raw, ProblemCode.Gs1Empty, { position });
    });
  });

  describe('separators', () => {
    it.each(GS_SUBSTITUTES.map((gs) => [`U+${gs.charCodeAt(0).toString(16).padStart(4, '0')}`, gs]))(
      'reads %s as GS',
      (_name, gs) => {
        expect(parseElementString(vialScan({ gs }), clock)).toMatchObject(VIAL);
      },
    );

    it('tolerates a leading GS, superfluous GS after fixed-length AIs and a trailing GS', () => {
      const raw = `]d2${GS}0109520012345674${GS}17271200${GS}${GS}10LYO24A01${GS}21V0001${GS}`;
      expect(parseElementString(raw, clock)).toMatchObject(VIAL);
      expect(parseElementString(`^${vialScan({ prefix: '', gs: '|' })}~`, clock)).toMatchObject(VIAL);
    });

    it('tolerates GS repeated after a variable-length value', () => {
      expect(parseElementString(vialScan({ gs: `${GS}${GS}` }), clock)).toMatchObject(VIAL);
    });

    it('reads the bytes a serial (USB-CDC) scanner sends as they come: GS intact, no substitute needed', () => {
      const bytes = [...']d2010952001234567417271200', ...'10LYO24A01', 0x1d, ...'21V0001'].map((b) =>
        typeof b === 'number' ? b : b.charCodeAt(0),
      );
      expect(parseElementString(String.fromCharCode(...bytes), clock)).toMatchObject({
        symbology: 'gs1-datamatrix',
        ...VIAL,
      });
    });

    it('takes the AIs in any order', () => {
      const raw = `10LYO24A01${GS}21V0001${GS}1727120001095200123456749912`;
      expect(parseElementString(raw, clock)).toMatchObject({
        ...VIAL,
        ais: [
          { ai: '10', value: 'LYO24A01' },
          { ai: '21', value: 'V0001' },
          { ai: '17', value: '271200' },
          { ai: '01', value: '09520012345674' },
          { ai: '99', value: '12' },
        ],
      });
    });

    it('does not guess a missing GS: lot and serial merge, and no serial is reported', () => {
      const scan = parseElementString(vialScan({ gs: '' }), clock);
      expect(scan.lot).toBe('LYO24A0121V0001');
      expect(scan).not.toHaveProperty('serial');
    });

    it('never reads a substitute as data: it splits the value where it stands', () => {
      // `LYO|24A01` is lot `LYO`, then `24A…` is read as an AI (24x has three digits).
      expectRefusal(vialScan({ lot: 'LYO|24A01' }), ProblemCode.Gs1UnknownAi, { ai: '24', position: 33 });
    });

    it.each([
      ['<GS> text', 'LYO<GS>', 'LYO<GS>'],
      ['the literal text \\x1D', 'L\\x1D', undefined],
    ])('does not read %s as GS', (_name, lot, expected) => {
      if (expected === undefined) {
        expectRefusal(vialScan({ lot }), ProblemCode.Gs1Charset, { ai: '10', position: 30 });
      } else {
        expect(parseElementString(vialScan({ lot }), clock).lot).toBe(expected);
      }
    });
  });

  describe('(00) SSCC and (01) GTIN: N18 / N14 with a check digit', () => {
    it('reads an SSCC on its own', () => {
      expect(parseElementString(']C100095200123456789016', clock)).toEqual({
        symbology: 'gs1-128',
        ais: [{ ai: '00', value: '095200123456789016' }],
        sscc: '095200123456789016',
      });
    });

    it.each([
      [']d20109520012345675', '01', 3],
      ['00095200123456789017', '00', 0],
      [`10LOT${GS}0112345678901232`, '01', 6],
    ])('refuses %j with GS1_CHECK_DIGIT', (raw, ai, position) => {
      const error = expectRefusal(raw, ProblemCode.Gs1CheckDigit, { ai, position });
      expect(error.message).toMatch(/wrong check digit: expected \d, got \d/);
    });

    it.each([
      ['01095200123456', '01', 0],
      [`010952001234${GS}5674`, '01', 0],
      ['0009520012345678901', '00', 0],
      [']d201', '01', 3],
    ])('refuses %j with GS1_LENGTH', (raw, ai, position) => {
      expectRefusal(raw, ProblemCode.Gs1Length, { ai, position });
    });

    it.each([
      ['010952001234A674', '01', 12],
      ['01 9520012345674', '01', 2],
      ['00-95200123456789016', '00', 2],
    ])('refuses %j with GS1_CHARSET', (raw, ai, position) => {
      const error = expectRefusal(raw, ProblemCode.Gs1Charset, { ai, position });
      expect(error.message).toMatch(/must be digits only/);
    });
  });

  describe('(10) lot, (21) serial: X..20 in GS1 character set 82', () => {
    it('takes every character of set 82', () => {
      const punctuation = `!"%&'()*+,-./:;<=>?_`;
      const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      expect(parseElementString(vialScan({ lot: punctuation }), clock).lot).toBe(punctuation);
      for (let at = 0; at < letters.length; at += 20) {
        const serial = letters.slice(at, at + 20);
        expect(parseElementString(vialScan({ serial }), clock).serial).toBe(serial);
      }
    });

    it('takes 20 characters, refuses 21', () => {
      expect(parseElementString(vialScan({ lot: 'L'.repeat(20) }), clock).lot).toBe('L'.repeat(20));
      expectRefusal(vialScan({ lot: 'L'.repeat(21) }), ProblemCode.Gs1Length, { ai: '10', position: 27 });
      expectRefusal(vialScan({ serial: 'S'.repeat(21) }), ProblemCode.Gs1Length, { ai: '21', position: 38 });
    });

    it('refuses an empty value', () => {
      expectRefusal(vialScan({ lot: '' }), ProblemCode.Gs1Length, { ai: '10', position: 27 });
      expectRefusal(vialScan({ serial: '' }), ProblemCode.Gs1Length, { ai: '21', position: 38 });
    });

    // Position 29 is the lot's first character in vialScan().
    it.each([
      ['LYO 24', 32],
      ['LYO#24', 32],
      ['$LYO', 29],
      ['LYO@', 32],
      ['[LYO', 29],
      ['LY\\O', 31],
      ['LYO]', 32],
      ['L`YO', 30],
      ['L{Y}', 30],
      ['LYÖ', 31],
      ['LYO\r', 32],
      ['LYO\u0000', 32],
      ['LYO😀', 32],
    ])('refuses lot %j with GS1_CHARSET at %d', (lot, position) => {
      const error = expectRefusal(vialScan({ lot }), ProblemCode.Gs1Charset, { ai: '10', position });
      expect(error.message).toMatch(/may only use GS1 character set 82/);
    });

    it('names the serial when the serial is at fault', () => {
      expectRefusal(vialScan({ serial: 'V 1' }), ProblemCode.Gs1Charset, { ai: '21', position: 41 });
    });

    it('refuses a trailing CR/LF: framing is the transport’s to strip', () => {
      expectRefusal(`${vialScan()}\r\n`, ProblemCode.Gs1Charset, { ai: '21', position: 45 });
    });
  });

  describe('(11), (17) dates: YYMMDD', () => {
    it.each([
      ['271231', '2027-12-31'],
      ['280229', '2028-02-29'],
      ['280200', '2028-02-29'],
      ['270200', '2027-02-28'],
      ['270400', '2027-04-30'],
      ['271200', '2027-12-31'],
      ['270101', '2027-01-01'],
    ])('reads expiry %s as %s', (expiryRaw, expiry) => {
      expect(parseElementString(vialScan({ expiry: expiryRaw }), clock)).toMatchObject({ expiry, expiryRaw });
    });

    it('reads a production date', () => {
      const scan = parseElementString(`0109520012345674112601141727120010LYO24A01`, clock);
      expect(scan).toMatchObject({
        productionDate: '2026-01-14',
        productionDateRaw: '260114',
        expiry: '2027-12-31',
        lot: 'LYO24A01',
      });
    });

    it.each([
      ['260100', '2026-01-01'],
      ['280200', '2028-02-01'],
      ['280229', '2028-02-29'],
    ])(
      'reads production date %s as %s (DD = 00: the first day, the earliest it can have been made)',
      (raw, iso) => {
        expect(parseElementString(`010952001234567411${raw}`, clock)).toMatchObject({
          productionDate: iso,
          productionDateRaw: raw,
        });
      },
    );

    it.each([
      ['271300', /month must be 01 to 12, got 13/],
      ['270015', /month must be 01 to 12, got 00/],
      ['270132', /day must be 01 to 31 for 2027-01, got 32/],
      ['270230', /day must be 01 to 28 for 2027-02, got 30/],
      ['270229', /day must be 01 to 28 for 2027-02, got 29/],
      ['270431', /day must be 01 to 30 for 2027-04, got 31/],
    ])('refuses expiry %s with GS1_DATE', (expiry, message) => {
      const error = expectRefusal(vialScan({ expiry }), ProblemCode.Gs1Date, { ai: '17', position: 19 });
      expect(error.message).toMatch(message);
    });

    it.each([
      ['261301', /month must be 01 to 12/],
      ['260001', /month must be 01 to 12, got 00/],
      ['260230', /day must be 01 to 28/],
      ['270229', /day must be 01 to 28 for 2027-02, got 29/],
    ])('refuses production date %s with GS1_DATE', (produced, message) => {
      const error = expectRefusal(`010952001234567411${produced}`, ProblemCode.Gs1Date, {
        ai: '11',
        position: 16,
      });
      expect(error.message).toMatch(message);
    });

    it.each([
      ['2712', ProblemCode.Gs1Length, 20],
      ['27120A', ProblemCode.Gs1Charset, 27],
    ])('refuses expiry %j as malformed', (expiry, code, position) => {
      const raw = `]d20109520012345674${GS}17${expiry}`;
      expectRefusal(raw, code, { ai: '17', position });
    });

    describe('century by the GS1 sliding window', () => {
      it.each([
        [2026, '761231', '2076-12-31'],
        [2026, '771231', '1977-12-31'],
        [2026, '990101', '1999-01-01'],
        [2026, '000229', '2000-02-29'],
        [2026, '260615', '2026-06-15'],
        [2075, '251231', '2125-12-31'],
        [2075, '261231', '2026-12-31'],
        [2075, '750101', '2075-01-01'],
        [2075, '990101', '2099-01-01'],
        [2100, '491231', '2149-12-31'],
        [2100, '501231', '2150-12-31'],
        [2100, '511231', '2051-12-31'],
      ])('in %d reads %s as %s', (year, expiryRaw, expiry) => {
        expect(parseElementString(vialScan({ expiry: expiryRaw }), clockIn(year))).toMatchObject({
          expiry,
          expiryRaw,
        });
      });

      it('refuses 29 February 2100 (not a leap year) but reads month-end 2100-02 as the 28th', () => {
        const in2075 = clockIn(2075);
        expectRefusal(
          vialScan({ expiry: '000229' }),
          ProblemCode.Gs1Date,
          { ai: '17', position: 19 },
          in2075,
        );
        expect(parseElementString(vialScan({ expiry: '000200' }), in2075).expiry).toBe('2100-02-28');
      });

      it('takes the year from the clock in UTC', () => {
        const newYearsEveInUtc = new FixedClock(new Date('2026-12-31T23:30:00-05:00'));
        // 2027-01-01 04:30 UTC: 77 is 50 years ahead of 2027 → 2077, not 1977.
        expect(parseElementString(vialScan({ expiry: '770101' }), newYearsEveInUtc).expiry).toBe(
          '2077-01-01',
        );
      });
    });
  });

  describe('(99) company internal information: X..90', () => {
    it('reads it after a fixed-length AI with no separator', () => {
      expect(parseElementString('^0112345678901231991234', clock)).toEqual({
        symbology: 'none',
        ais: [
          { ai: '01', value: '12345678901231' },
          { ai: '99', value: '1234' },
        ],
        gtin: '12345678901231',
      });
    });

    it('takes 90 characters, refuses 91', () => {
      expect(parseElementString(`99${'X'.repeat(90)}`, clock).ais).toEqual([
        { ai: '99', value: 'X'.repeat(90) },
      ]);
      expectRefusal(`99${'X'.repeat(91)}`, ProblemCode.Gs1Length, { ai: '99', position: 0 });
    });
  });

  describe('unsupported AIs', () => {
    it.each([
      ['0209520012345674', '02', 0],
      [']d20109520012345674240ABC', '240', 19],
      [']d201095200123456743103000189', '3103', 19],
      [']d20109520012345674710ABC', '710', 19],
      ['0109520012345674911234', '91', 16],
      ['0109520012345674310', '310', 16],
      ['0109520012345674240', '240', 16],
      ['01095200123456741', '1', 16],
      ['AB', 'AB', 0],
      ['ht', 'ht', 0],
      ['(01)09520012345674', '(0', 0],
      [`]d2${GS}22ABC`, '22', 4],
    ])('refuses %j naming AI (%s)', (raw, ai, position) => {
      const error = expectRefusal(raw, ProblemCode.Gs1UnknownAi, { ai, position });
      expect(error.message).toBe(
        `AI (${ai}) is not supported: only (00), (01), (10), (11), (17), (21), (99) are read`,
      );
    });
  });

  describe('requisites: (10), (11), (17), (21) need (01)', () => {
    it.each([
      [']d221V0001', '21', 3],
      ['10LYO24A01', '10', 0],
      ['17271200', '17', 0],
      ['11260114', '11', 0],
      [`11260114${GS}10LYO24A01`, '11', 0],
      [`00095200123456789016${GS}10LYO24A01`, '10', 21],
      ['0009520012345678901617271200', '17', 20],
    ])('refuses %j with GS1_REQUISITE naming (%s)', (raw, ai, position) => {
      const error = expectRefusal(raw, ProblemCode.Gs1Requisite, { ai, position });
      expect(error.message).toMatch(/requires \(01\) GTIN/);
    });

    it.each(['991234', '00095200123456789016', '0109520012345674'])('reads %j on its own', (raw) => {
      expect(parseElementString(raw, clock).ais).toHaveLength(1);
    });
  });

  describe('duplicates', () => {
    it.each([
      ['01095200123456740109520012345674', '01', 16],
      [`0109520012345674${GS}10A${GS}10A`, '10', 21],
      [`0109520012345674172712001727120021S`, '17', 24],
      [`21S${GS}0109520012345674${GS}21S`, '21', 21],
    ])('refuses %j with GS1_DUPLICATE_AI naming (%s)', (raw, ai, position) => {
      expectRefusal(raw, ProblemCode.Gs1DuplicateAi, { ai, position });
    });
  });
});

describe('formatElementString', () => {
  const ais: Gs1Element[] = [
    { ai: '10', value: 'LYO24A01' },
    { ai: '21', value: 'V0001' },
    { ai: '01', value: '09520012345674' },
    { ai: '17', value: '271200' },
  ];

  it('puts fixed-length AIs first and ends each variable one but the last with GS', () => {
    expect(formatElementString(ais, { symbology: ']d2' })).toBe(vialScan());
    expect(formatElementString(ais)).toBe(vialScan({ prefix: '' }));
    expect(formatElementString(ais, { symbology: ']C1', gs: '^' })).toBe(
      vialScan({ prefix: ']C1', gs: '^' }),
    );
  });

  it('writes typed trade item fields, with YYYY-MM as DD = 00', () => {
    const item = { gtin: '09520012345674', lot: 'LYO24A01', serial: 'V0001' };
    expect(formatElementString({ ...item, expiry: '2027-12' }, { symbology: ']d2' })).toBe(vialScan());
    expect(formatElementString({ ...item, expiry: '2027-12-31' })).toBe(
      vialScan({ prefix: '', expiry: '271231' }),
    );
    expect(formatElementString({ gtin: '09520012345674' })).toBe('0109520012345674');
  });

  it('ends a variable value with GS only when another follows', () => {
    expect(
      formatElementString([
        { ai: '99', value: '12' },
        { ai: '01', value: '12345678901231' },
      ]),
    ).toBe('011234567890123199' + '12');
  });

  it.each([
    [[{ ai: '01', value: '09520012345675' }], ProblemCode.Gs1CheckDigit, '01'],
    [[{ ai: '10', value: 'LYO' }], ProblemCode.Gs1Requisite, '10'],
    [
      [
        { ai: '01', value: '09520012345674' },
        { ai: '10', value: 'LYO 1' },
      ],
      ProblemCode.Gs1Charset,
      '10',
    ],
    [
      [
        { ai: '01', value: '09520012345674' },
        { ai: '17', value: '271300' },
      ],
      ProblemCode.Gs1Date,
      '17',
    ],
    [
      [
        { ai: '01', value: '09520012345674' },
        { ai: '01', value: '09520012345674' },
      ],
      ProblemCode.Gs1DuplicateAi,
      '01',
    ],
    [[{ ai: '02', value: '09520012345674' }], ProblemCode.Gs1UnknownAi, '02'],
  ])('refuses %j with %s', (elements, code, ai) => {
    const error = refusal(() => formatElementString(elements as Gs1Element[]));
    expect(error.code).toBe(code);
    expect(error.extensions).toEqual({ ai });
  });

  it.each([
    ['2027-13', ProblemCode.Gs1Date],
    ['2027-02-29', ProblemCode.Gs1Date],
    ['2027-02-00', ProblemCode.Gs1Date],
    ['27-12-31', ProblemCode.Gs1Date],
    ['2027-12-31T00:00:00Z', ProblemCode.Gs1Date],
  ])('refuses the expiry %j', (expiry, code) => {
    const error = refusal(() => formatElementString({ gtin: '09520012345674', expiry }));
    expect(error.code).toBe(code);
    expect(error.extensions).toMatchObject({ ai: '17' });
  });

  it('round-trips 300 random vials through format and parse', () => {
    let state = 42;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const set82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
    const text = (): string =>
      Array.from({ length: 1 + random(20) }, () => set82.charAt(random(82))).join('');
    expect(set82).toHaveLength(82);
    for (let n = 0; n < 300; n++) {
      const data = Array.from({ length: 13 }, () => random(10)).join('');
      const elements: Gs1Element[] = [
        { ai: '01', value: `${data}${gs1CheckDigit(data)}` },
        { ai: '10', value: text() },
        { ai: '21', value: text() },
        { ai: '17', value: `${String(26 + random(20))}${String(1 + random(12)).padStart(2, '0')}00` },
      ];
      const gs = GS_SUBSTITUTES[random(GS_SUBSTITUTES.length)];
      const raw = formatElementString(elements, { symbology: ']d2', gs });
      expect(parseElementString(raw, clock).ais).toEqual([
        elements[0],
        elements[3],
        elements[1],
        elements[2],
      ]);
    }
  });
});

describe('formatHumanReadable', () => {
  it('writes (AI)value pairs, fixed-length first', () => {
    const item = { gtin: '09520012345674', lot: 'LYO24A01', serial: 'V0001', expiry: '2027-12' };
    expect(formatHumanReadable(item)).toBe('(01)09520012345674(17)271200(10)LYO24A01(21)V0001');
    expect(formatHumanReadable(parseElementString(']C100095200123456789016', clock).ais)).toBe(
      '(00)095200123456789016',
    );
  });

  it('refuses what it could not print truthfully', () => {
    const error = refusal(() => formatHumanReadable({ gtin: '09520012345674', serial: 'V#1' }));
    expect(error.code).toBe(ProblemCode.Gs1Charset);
    expect(error.extensions).toEqual({ ai: '21' });
  });
});
