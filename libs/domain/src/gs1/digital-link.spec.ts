import { ProblemCode } from '@lyotrace/contracts';
import { FixedClock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { type Gs1Element } from './application-identifiers.js';
import { gs1CheckDigit } from './check-digit.js';
import { formatDigitalLink, GS1_RESOLVER, parseDigitalLink } from './digital-link.js';

const clock = new FixedClock(new Date('2026-06-15T12:00:00Z'));
const GTIN = '09520012345674';
const SSCC = '095200123456789016';

/** A vial's Digital Link; each part can be overridden. */
function vialLink(parts: { base?: string; path?: string; query?: string } = {}): string {
  const { base = GS1_RESOLVER, path = `/01/${GTIN}/10/LYO24A01/21/V0001`, query = '?17=271200' } = parts;
  return `${base}${path}${query}`;
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

function expectRefusal(uri: string, code: ProblemCode, extensions: Record<string, unknown>): DomainError {
  const error = refusal(() => parseDigitalLink(uri, clock));
  expect(error.code).toBe(code);
  expect(error.extensions).toEqual(extensions);
  return error;
}

describe('parseDigitalLink', () => {
  it('reads key, qualifiers and query attributes', () => {
    expect(parseDigitalLink(vialLink(), clock)).toEqual({
      base: 'https://id.gs1.org',
      ais: [
        { ai: '01', value: GTIN },
        { ai: '10', value: 'LYO24A01' },
        { ai: '21', value: 'V0001' },
        { ai: '17', value: '271200' },
      ],
      gtin: GTIN,
      lot: 'LYO24A01',
      serial: 'V0001',
      expiry: '2027-12-31',
      expiryRaw: '271200',
    });
  });

  it.each([
    ['https://example.com/some/stem', 'https://example.com/some/stem'],
    ['http://example.com:8080', 'http://example.com:8080'],
    ['https://example.com/01/stem', 'https://example.com/01/stem'],
    ['https://example.com/2024/01', 'https://example.com/2024/01'],
    ['https://example.com/00/stem', 'https://example.com/00/stem'],
    ['HTTPS://ID.GS1.ORG', 'HTTPS://ID.GS1.ORG'],
  ])('allows any host and stem: %s', (base, expected) => {
    expect(parseDigitalLink(vialLink({ base }), clock)).toMatchObject({
      base: expected,
      gtin: GTIN,
      serial: 'V0001',
    });
  });

  it('reads an SSCC', () => {
    expect(parseDigitalLink(`https://id.gs1.org/00/${SSCC}`, clock)).toEqual({
      base: 'https://id.gs1.org',
      ais: [{ ai: '00', value: SSCC }],
      sscc: SSCC,
    });
  });

  it.each([
    ['9520012345674', GTIN],
    ['036000291452', '00036000291452'],
    ['96385074', '00000096385074'],
  ])('pads the short GTIN %s to %s', (short, gtin) => {
    expect(parseDigitalLink(`https://id.gs1.org/01/${short}`, clock).gtin).toBe(gtin);
  });

  it('takes a lot alone, a serial alone and a bare key', () => {
    expect(parseDigitalLink(vialLink({ path: `/01/${GTIN}/10/L1`, query: '' }), clock)).toMatchObject({
      lot: 'L1',
    });
    expect(parseDigitalLink(vialLink({ path: `/01/${GTIN}/21/S1`, query: '' }), clock)).toMatchObject({
      serial: 'S1',
    });
    expect(parseDigitalLink(`https://id.gs1.org/01/${GTIN}`, clock).ais).toEqual([{ ai: '01', value: GTIN }]);
  });

  describe('query string', () => {
    it('reads data attributes in any order, ignores non-GS1 parameters and the fragment', () => {
      const link = vialLink({ query: '?linkType=gs1:pip&11=260114&17=271200&99=X&utm_source=qr&#top' });
      expect(parseDigitalLink(link, clock)).toMatchObject({
        productionDate: '2026-01-14',
        expiry: '2027-12-31',
        ais: [
          { ai: '01', value: GTIN },
          { ai: '10', value: 'LYO24A01' },
          { ai: '21', value: 'V0001' },
          { ai: '11', value: '260114' },
          { ai: '17', value: '271200' },
          { ai: '99', value: 'X' },
        ],
      });
    });

    it.each([
      ['?17=271200&17=271200', ProblemCode.Gs1DuplicateAi, '17'],
      ['?17=271200&17=271231', ProblemCode.Gs1DuplicateAi, '17'],
      ['?17=271300', ProblemCode.Gs1Date, '17'],
      ['?17=270229', ProblemCode.Gs1Date, '17'],
      ['?11=261301', ProblemCode.Gs1Date, '11'],
      ['?11=260230', ProblemCode.Gs1Date, '11'],
      ['?17=', ProblemCode.Gs1Length, '17'],
      ['?17', ProblemCode.Gs1Length, '17'],
      ['?17=2712', ProblemCode.Gs1Length, '17'],
      ['?17=27120A', ProblemCode.Gs1Charset, '17'],
      ['?3103=000189', ProblemCode.Gs1UnknownAi, '3103'],
      ['?7003=2701011200', ProblemCode.Gs1UnknownAi, '7003'],
      ['?10=LOT', ProblemCode.Gs1DigitalLink, '10'],
      ['?21=S', ProblemCode.Gs1DigitalLink, '21'],
      ['?01=09520012345674', ProblemCode.Gs1DigitalLink, '01'],
      ['?00=095200123456789016', ProblemCode.Gs1DigitalLink, '00'],
      ['?17=%ZZ', ProblemCode.Gs1DigitalLink, '17'],
    ])('refuses %s with %s naming (%s)', (query, code, ai) => {
      expectRefusal(vialLink({ query }), code, { ai });
    });

    it('reads DD = 00: expiry as the last day of the month, production date as the first', () => {
      expect(parseDigitalLink(vialLink({ query: '?11=280200&17=280200' }), clock)).toMatchObject({
        productionDate: '2028-02-01',
        productionDateRaw: '280200',
        expiry: '2028-02-29',
        expiryRaw: '280200',
      });
    });

    it('decodes a percent-encoded AI in the query', () => {
      expect(parseDigitalLink(vialLink({ query: '?%31%37=271200' }), clock).expiry).toBe('2027-12-31');
    });

    it.each(['17', '11'])('refuses (%s) on an SSCC: it needs (01)', (ai) => {
      expectRefusal(`https://id.gs1.org/00/${SSCC}?${ai}=271201`, ProblemCode.Gs1Requisite, { ai });
    });
  });

  describe('path', () => {
    it.each([
      [`/01/${GTIN}/21/V0001/10/LYO24A01`, ProblemCode.Gs1DigitalLink, '10', /order 22, 10, 21/],
      [`/01/${GTIN}/10/A/10/B`, ProblemCode.Gs1DuplicateAi, '10', /more than once/],
      [`/01/${GTIN}/21/A/21/A`, ProblemCode.Gs1DuplicateAi, '21', /more than once/],
      [`/01/${GTIN}/01/${GTIN}`, ProblemCode.Gs1DuplicateAi, '01', /more than once/],
      [`/01/${GTIN}/10/LYO/01/${GTIN}`, ProblemCode.Gs1DuplicateAi, '01', /more than once/],
      [`/00/${SSCC}/01/${GTIN}`, ProblemCode.Gs1DigitalLink, '00', /two GS1 keys/],
      [`/stem/00/12/01/${GTIN}`, ProblemCode.Gs1DigitalLink, '00', /two GS1 keys/],
      [`/01/1/10/LYO/01/${GTIN}`, ProblemCode.Gs1DuplicateAi, '01', /more than once/],
      [`/01/${GTIN}/00/${SSCC}`, ProblemCode.Gs1DigitalLink, '01', /two GS1 keys/],
      [`/01/${GTIN}/17/271200`, ProblemCode.Gs1DigitalLink, '17', /query string/],
      [`/01/${GTIN}/10/L/11/260101`, ProblemCode.Gs1DigitalLink, '11', /query string/],
      [`/00/${SSCC}/10/LYO`, ProblemCode.Gs1DigitalLink, '10', /cannot qualify \(00\) SSCC/],
      [`/01/${GTIN}/22/ABC`, ProblemCode.Gs1UnknownAi, '22', /not supported/],
      [`/01/${GTIN}/235/ABC`, ProblemCode.Gs1UnknownAi, '235', /not supported/],
      [`/01/09520012345675`, ProblemCode.Gs1CheckDigit, '01', /wrong check digit/],
      [`/00/095200123456789017`, ProblemCode.Gs1CheckDigit, '00', /wrong check digit/],
      [`/01/952001234568`, ProblemCode.Gs1CheckDigit, '01', /wrong check digit/],
      [`/01/0952001234568`, ProblemCode.Gs1CheckDigit, '01', /wrong check digit/],
      [`/01/095200123456745`, ProblemCode.Gs1Length, '01', /exactly 14 digits, got 15/],
      [`/01/952001234`, ProblemCode.Gs1Length, '01', /exactly 14 digits, got 9/],
      [`/01//10/L`, ProblemCode.Gs1Length, '01', /got 0/],
      [`/01/${GTIN}/10/${'L'.repeat(21)}`, ProblemCode.Gs1Length, '10', /1 to 20 characters, got 21/],
      [`/01/${GTIN}/10/LYO%2024`, ProblemCode.Gs1Charset, '10', /set 82; U\+0020 at character 4/],
      [`/01/${GTIN}/21/A%7E`, ProblemCode.Gs1Charset, '21', /'~' \(U\+007E\)/],
      [`/01/${GTIN}/21/A%C3%A9`, ProblemCode.Gs1Charset, '21', /U\+00E9/],
      [`/01/${GTIN}/21/A%E9`, ProblemCode.Gs1DigitalLink, '21', /malformed percent-encoding/],
    ])('refuses %s with %s naming (%s)', (path, code, ai, message) => {
      const error = expectRefusal(vialLink({ path, query: '' }), code, { ai });
      expect(error.message).toMatch(message);
    });

    it.each([
      ['https://id.gs1.org', /no GS1 key/],
      ['https://id.gs1.org/', /does not end with/],
      [`https://id.gs1.org/01/${GTIN}/`, /does not end with/],
      ['https://id.gs1.org/product/123', /no GS1 key/],
      [`https://id.gs1.org/01/${GTIN}/10`, /no GS1 key/],
      [`https://id.gs1.org/01/${GTIN}/10/L/extra`, /no GS1 key/],
      [`https://id.gs1.org/01/${GTIN}/gtin/1`, /no GS1 key/],
      [`ftp://id.gs1.org/01/${GTIN}`, /http or https URI/],
      [`https:///01/${GTIN}`, /http or https URI/],
      [`id.gs1.org/01/${GTIN}`, /http or https URI/],
      [`https://id.gs1.org/01/${GTIN}/10/LYO 24`, /U\+0020: percent-encode it/],
      [`https://id.gs1.org/01/${GTIN}/10/LYÖ`, /U\+00D6: percent-encode it/],
      [`https://id.gs1.org/01/${GTIN}\r\n`, /U\+000D/],
    ])('refuses %j with GS1_DIGITAL_LINK', (uri, message) => {
      const error = expectRefusal(uri, ProblemCode.Gs1DigitalLink, {});
      expect(error.message).toMatch(message);
    });
  });

  describe('percent-encoding', () => {
    it.each([
      ['A%2FB', 'A/B'],
      ['A%26B%3DC', 'A&B=C'],
      ['A+B', 'A+B'],
      ['A%2BB', 'A+B'],
      ['%21%22%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F', `!"%&'()*+,/:;<=>?`],
      ['%4c%59%4F', 'LYO'],
      ["A!'()*", "A!'()*"],
    ])('decodes %s to %s', (encoded, lot) => {
      expect(parseDigitalLink(vialLink({ path: `/01/${GTIN}/10/${encoded}` }), clock).lot).toBe(lot);
      expect(parseDigitalLink(vialLink({ query: `?17=271200&99=${encoded}` }), clock).ais.at(-1)).toEqual({
        ai: '99',
        value: lot,
      });
    });
  });
});

describe('formatDigitalLink', () => {
  const vial = { gtin: GTIN, lot: 'LYO24A01', serial: 'V0001', expiry: '2027-12' };

  it('writes typed trade item fields', () => {
    expect(formatDigitalLink(vial)).toBe(vialLink());
    expect(formatDigitalLink({ ...vial, expiry: '2027-12-31' })).toBe(vialLink({ query: '?17=271231' }));
    expect(formatDigitalLink({ gtin: GTIN, serial: 'V0001' })).toBe(`${GS1_RESOLVER}/01/${GTIN}/21/V0001`);
  });

  it.each([
    ['https://example.com/some/stem', 'https://example.com/some/stem'],
    ['https://example.com/some/stem/', 'https://example.com/some/stem'],
    ['https://example.com/', 'https://example.com'],
  ])('writes under the base %s', (base, expected) => {
    expect(formatDigitalLink(vial, base)).toBe(vialLink({ base: expected }));
  });

  it.each([
    'example.com',
    'ftp://example.com',
    'https://example.com?x=1',
    'https://example.com/#f',
    'https:// x',
    '',
  ])('refuses the base %j', (base) => {
    const error = refusal(() => formatDigitalLink(vial, base));
    expect(error.code).toBe(ProblemCode.Gs1DigitalLink);
    expect(error.extensions).toEqual({ field: 'base' });
  });

  it('puts qualifiers in GS1 order and attributes in the query, whatever the input order', () => {
    const ais: Gs1Element[] = [
      { ai: '17', value: '271200' },
      { ai: '21', value: 'V0001' },
      { ai: '99', value: 'Q' },
      { ai: '10', value: 'LYO24A01' },
      { ai: '01', value: GTIN },
    ];
    expect(formatDigitalLink(ais)).toBe(vialLink({ query: '?17=271200&99=Q' }));
  });

  it('writes an SSCC', () => {
    expect(formatDigitalLink([{ ai: '00', value: SSCC }])).toBe(`https://id.gs1.org/00/${SSCC}`);
  });

  it('percent-encodes every character of set 82 outside A–Z a–z 0–9 - . _', () => {
    const lot = `!"%&'()*+,-./:;<=>?_`;
    const link = formatDigitalLink({ gtin: GTIN, lot });
    expect(link).toBe(`${GS1_RESOLVER}/01/${GTIN}/10/%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_`);
    expect(parseDigitalLink(link, clock).lot).toBe(lot);
  });

  it.each([
    [[{ ai: '10', value: 'L' }], ProblemCode.Gs1Requisite, { ai: '10' }],
    [[{ ai: '17', value: '271200' }], ProblemCode.Gs1Requisite, { ai: '17' }],
    [[{ ai: '99', value: 'Q' }], ProblemCode.Gs1DigitalLink, {}],
    [
      [
        { ai: '00', value: SSCC },
        { ai: '01', value: GTIN },
      ],
      ProblemCode.Gs1DigitalLink,
      { ai: '00' },
    ],
    [[{ ai: '01', value: '09520012345675' }], ProblemCode.Gs1CheckDigit, { ai: '01' }],
    [[{ ai: '01', value: '9520012345674' }], ProblemCode.Gs1Length, { ai: '01' }],
    [
      [
        { ai: '01', value: GTIN },
        { ai: '21', value: 'S' },
        { ai: '21', value: 'T' },
      ],
      ProblemCode.Gs1DuplicateAi,
      { ai: '21' },
    ],
  ])('refuses %j with %s', (elements, code, extensions) => {
    const error = refusal(() => formatDigitalLink(elements as Gs1Element[]));
    expect(error.code).toBe(code);
    expect(error.extensions).toEqual(extensions);
  });

  it('round-trips 300 random vials through format and parse', () => {
    let state = 2026;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const set82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;
    const text = (): string =>
      Array.from({ length: 1 + random(20) }, () => set82.charAt(random(82))).join('');
    for (let n = 0; n < 300; n++) {
      const data = Array.from({ length: 13 }, () => random(10)).join('');
      const item = {
        gtin: `${data}${gs1CheckDigit(data)}`,
        lot: text(),
        serial: text(),
        expiry: `20${String(26 + random(20))}-${String(1 + random(12)).padStart(2, '0')}`,
      };
      const base = n % 2 === 0 ? GS1_RESOLVER : 'https://example.com/some/stem';
      const link = parseDigitalLink(formatDigitalLink(item, base), clock);
      expect(link).toMatchObject({ base, gtin: item.gtin, lot: item.lot, serial: item.serial });
      expect(`${link.expiry?.slice(0, 7)}`).toBe(item.expiry);
      expect(link.expiryRaw?.endsWith('00')).toBe(true);
    }
  });
});
