import { inflateSync } from 'node:zlib';
import { ProblemCode } from '@lyotrace/contracts';
import { DomainError } from '@lyotrace/domain';
import zxing, { type BarcodeFormat, type DecodeHintType } from '@zxing/library';
import pngjs from 'pngjs';
import { gs1DataMatrixPng } from './datamatrix-png.js';
import { GS, gs1ElementString, parseHumanReadable } from './vial-label.check.js';
import { LABELS_PER_PAGE, VialLabelRenderer } from './vial-label.renderer.js';
import { type VialLabel } from './vial-label.types.js';

const LABEL: VialLabel = {
  humanReadable: '(01)09520012345674(17)271200(10)LYO24A01(21)V0001',
  digitalLink: 'https://id.gs1.org/01/09520012345674/10/LYO24A01/21/V0001?17=271200',
  productName: 'Lyosecretome 50 mg',
  lot: 'LYO24A01',
  serial: 'V0001',
  expiry: '2027-12-31',
};

/** The label for serial `serial` of the same lot. */
const vial = (serial: string): VialLabel => ({
  ...LABEL,
  serial,
  humanReadable: LABEL.humanReadable.replace('V0001', serial),
  digitalLink: LABEL.digitalLink.replace('V0001', serial),
});

/**
 * Decodes the DataMatrix in a PNG. zxing's RGBLuminanceSource wants luminance (or packed 0xRRGGBB ints), not
 * the RGBA bytes pngjs gives, so they are converted. `pure`: the image is the bare symbol with its quiet
 * zone (DataMatrixReader, PURE_BARCODE); otherwise the detector looks for it (a PNG with the HRI text below).
 */
function decode(png: Buffer, pure: boolean): { text: string; format: BarcodeFormat } {
  const image = pngjs.PNG.sync.read(png);
  const luminance = new Uint8ClampedArray(image.width * image.height);
  for (let i = 0; i < luminance.length; i++) {
    const r = image.data[4 * i] ?? 0;
    const g = image.data[4 * i + 1] ?? 0;
    const b = image.data[4 * i + 2] ?? 0;
    luminance[i] = (r * 299 + g * 587 + b * 114) / 1000;
  }
  const bitmap = new zxing.BinaryBitmap(
    new zxing.HybridBinarizer(new zxing.RGBLuminanceSource(luminance, image.width, image.height)),
  );
  const hints = new Map<DecodeHintType, unknown>([
    [zxing.DecodeHintType.POSSIBLE_FORMATS, [zxing.BarcodeFormat.DATA_MATRIX]],
    [pure ? zxing.DecodeHintType.PURE_BARCODE : zxing.DecodeHintType.TRY_HARDER, true],
  ]);
  const result = pure
    ? new zxing.DataMatrixReader().decode(bitmap, hints)
    : new zxing.MultiFormatReader().decode(bitmap, hints);
  return { text: result.getText(), format: result.getBarcodeFormat() };
}

/**
 * zxing (0.21) gives a GS1 DataMatrix as the element string with FNC1 written as GS (0x1D): a leading GS for
 * the FNC1 in first position (no `]d2` symbology identifier), then GS after each variable-length AI not last.
 */
const normalise = (decoded: string): string => {
  const data = decoded.startsWith(']d2') ? decoded.slice(3) : decoded;
  return data.startsWith(GS) ? data.slice(1) : data;
};

/** What `fn` throws (fails the test when it does not throw). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

/** The element string a scanner sends for a parenthesised HRI, GS written as `<GS>` for readable failures. */
const expected = (hri: string): string => gs1ElementString(parseHumanReadable(hri), '<GS>');
const readable = (s: string): string => s.replaceAll(GS, '<GS>');

/** Minimal XML well-formedness: one root, balanced and properly nested tags, quoted attributes, entities. */
function assertWellFormedXml(doc: string): string {
  const body = doc.replace(/^<\?xml[^?]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  const stack: string[] = [];
  let roots = 0;
  let root = '';
  for (const m of body.matchAll(token)) {
    const [, close, name, , selfClosing, text, stray] = m;
    if (stray !== undefined)
      throw new Error(`malformed markup at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== '') throw new Error('text outside the root element');
      const bad = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/.exec(text);
      if (bad) throw new Error(`bare & in text at ${m.index}`);
      continue;
    }
    if (name === undefined) continue; // comment
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) {
        roots++;
        root = name;
      }
      if (!selfClosing) stack.push(name);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
  return root;
}

/** The text drawn on each page of a PDFKit PDF (standard fonts: WinAnsi hex strings inside TJ arrays). */
function pdfPageTexts(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const texts: string[] = [];
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    let content: string;
    try {
      content = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue; // not a Flate stream we can read (or an image)
    }
    if (!content.includes('TJ')) continue;
    const runs = [...content.matchAll(/\[([^\]]*)\]\s*TJ/g)].map(([, array]) =>
      [...(array ?? '').matchAll(/<([\da-f]*)>/gi)]
        .map(([, hex]) => Buffer.from(hex ?? '', 'hex').toString('latin1'))
        .join(''),
    );
    texts.push(runs.join('\n'));
  }
  return texts;
}

const renderer = new VialLabelRenderer();

describe('VialLabelRenderer.png', () => {
  it('decodes back (zxing) to the element string of the HRI: FNC1 and separators as GS', async () => {
    const { text, format } = decode(await renderer.png(LABEL), false);
    expect(format).toBe(zxing.BarcodeFormat.DATA_MATRIX);
    // What zxing returns, verbatim: leading GS for FNC1, GS after the lot, nothing after the last AI.
    expect(text).toBe(`${GS}01095200123456741727120010LYO24A01${GS}21V0001`);
    expect(readable(normalise(text))).toBe('0109520012345674' + '17271200' + '10LYO24A01<GS>' + '21V0001');
    expect(readable(normalise(text))).toBe(expected(LABEL.humanReadable));
  });

  it.each([
    ['a variable AI in the middle (GS after it)', '(01)09520012345674(10)LYO24A01(17)271200(21)V0001'],
    [
      '20-character lot and serial using CSET 82 punctuation',
      `(01)09520012345674(17)280229(10)A-1/B.2_C%D&E'F*G+"H(21)Zz9:;<=>?!,xyz012345`,
    ],
    ['a real expiry day', '(01)09506000134352(17)260331(10)B7(21)1'],
  ])('decodes %s', async (_, hri) => {
    const elements = parseHumanReadable(hri);
    const value = (ai: string): string => elements.find((e) => e.ai === ai)?.value ?? '';
    const yymmdd = value('17');
    const [year, month, day] = [0, 2, 4].map((at) => Number(yymmdd.slice(at, at + 2)));
    const last = new Date(Date.UTC(2000 + (year ?? 0), month ?? 0, 0)).getUTCDate(); // DD = 00: last day
    const expiry = `20${yymmdd.slice(0, 4).replace(/(..)(..)/, '$1-$2')}-${String(day || last).padStart(2, '0')}`;
    const label: VialLabel = {
      humanReadable: hri,
      digitalLink: `https://example.com/01/${value('01')}/21/${encodeURIComponent(value('21'))}`,
      productName: 'Lyosecretome 50 mg',
      lot: value('10'),
      serial: value('21'),
      expiry,
    };
    const { text } = decode(await renderer.png(label), false);
    expect(readable(normalise(text))).toBe(expected(hri));
  });

  it.each([203, 300, 600])('decodes at %i dpi and records the resolution in pHYs', async (dpi) => {
    const png = await renderer.png(LABEL, { dpi });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const phys = png.indexOf('pHYs');
    expect(phys).toBeGreaterThan(0);
    expect(png.readUInt32BE(phys + 4)).toBe(Math.floor(dpi / 0.0254)); // pixels per metre, x
    expect(readable(normalise(decode(png, false).text))).toBe(expected(LABEL.humanReadable));
  });

  it('uses a whole, even number of dots per module, nearest the wanted size but never under 0.254 mm', async () => {
    // The symbol is 22 × 22 modules; measure its height in dots.
    const symbolDots = async (dpi: number, moduleMm: number): Promise<number> => {
      const image = pngjs.PNG.sync.read(await renderer.png(LABEL, { dpi, moduleMm }));
      const dark = (x: number, y: number): boolean => (image.data[4 * (y * image.width + x)] ?? 255) < 128;
      // The first dark pixel in raster order is the symbol's top-left corner; its left edge is solid dark over
      // the 22 modules (the L finder pattern), and the HRI text starts below a white gap.
      const first = image.data.findIndex((v, i) => i % 4 === 0 && v < 128) / 4;
      const [x, top] = [first % image.width, Math.floor(first / image.width)];
      let height = 0;
      while (dark(x, top + height)) height++;
      return height / 22;
    };
    expect(await symbolDots(300, 0.34)).toBe(4); // 0.339 mm
    expect(await symbolDots(300, 0.68)).toBe(8);
    expect(await symbolDots(600, 0.34)).toBe(8);
    expect(await symbolDots(203, 0.34)).toBe(4); // 2 dots would be 0.250 mm
    // White, opaque background.
    const image = pngjs.PNG.sync.read(await renderer.png(LABEL));
    expect([...image.data.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
  });

  it('refuses absurd print options', async () => {
    await expect(renderer.png(LABEL, { dpi: 10 })).rejects.toMatchObject({
      code: ProblemCode.ValidationFailed,
    });
    await expect(renderer.png(LABEL, { moduleMm: 0.2 })).rejects.toThrow(/moduleMm must be 0.254 to 2 mm/);
  });
});

describe('gs1DataMatrixPng (the symbol the sheet embeds)', () => {
  it('is a bare 1-bit symbol with its quiet zone that decodes as a pure barcode', () => {
    const png = gs1DataMatrixPng(LABEL.humanReadable, 4, 2);
    const image = pngjs.PNG.sync.read(png);
    expect(image.width).toBe((22 + 4) * 4); // 22 × 22 modules + 2 quiet modules a side, 4 px each
    expect(image.height).toBe(image.width);
    expect(readable(normalise(decode(png, true).text))).toBe(expected(LABEL.humanReadable));
  });
});

describe('VialLabelRenderer.svg', () => {
  it('is a well-formed standalone SVG with the symbol and every text line', () => {
    const svg = renderer.svg(LABEL);
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"')).toBe(true);
    expect(assertWellFormedXml(svg)).toBe('svg');
    expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/width="[\d.]+mm" height="20mm" viewBox="0 0 [\d.]+ 20"/);
    expect(svg).toMatch(/<path [^>]*d="M/); // the DataMatrix from bwip-js
    for (const line of [
      '>Lyosecretome 50 mg<',
      '>LOT LYO24A01<',
      '>SN V0001<',
      '>EXP 2027-12-31<',
      `>${LABEL.humanReadable}<`,
      `>${LABEL.digitalLink}<`,
    ]) {
      expect(svg).toContain(line);
    }
  });

  it('escapes markup in the printed text', () => {
    const svg = renderer.svg({ ...LABEL, productName: 'Lyo <50 mg> & "co"' });
    expect(assertWellFormedXml(svg)).toBe('svg');
    expect(svg).toContain('>Lyo &lt;50 mg&gt; &amp; &quot;co&quot;<');
  });

  it('widens the label for a long element string', () => {
    const width = (svg: string): number => Number(/width="([\d.]+)mm"/.exec(svg)?.[1]);
    const hri = '(01)09520012345674(17)271200(10)ABCDEFGHIJKLMNOPQRST(21)ABCDEFGHIJKLMNOPQRST';
    const long = renderer.svg({
      ...LABEL,
      humanReadable: hri,
      lot: 'ABCDEFGHIJKLMNOPQRST',
      serial: 'ABCDEFGHIJKLMNOPQRST',
      digitalLink: 'https://id.gs1.org/01/09520012345674',
    });
    expect(width(long)).toBeGreaterThan(width(renderer.svg(LABEL)));
  });
});

describe('VialLabelRenderer.sheetPdf', () => {
  const title = 'Lot LYO24A01 vial labels';
  const labels = Array.from({ length: 45 }, (_, i) => vial(`V${String(i + 1).padStart(4, '0')}`));
  let pdf: Buffer;

  beforeAll(async () => {
    pdf = await renderer.sheetPdf(title, labels);
  });

  it('is a PDF with one page per 40 labels (45 → 2)', () => {
    expect(LABELS_PER_PAGE).toBe(40);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF\s*$/);
    const raw = pdf.toString('latin1');
    expect(raw.match(/\/Type \/Page\b/g)).toHaveLength(2); // \b: not /Type /Pages
    expect(raw.match(/\/Subtype \/Image/g)).toHaveLength(45);
  });

  it('carries the title in the header of every page, with page numbers, and as document title', () => {
    const pages = pdfPageTexts(pdf);
    expect(pages).toHaveLength(2);
    pages.forEach((text, i) => {
      expect(text).toContain(title);
      expect(text).toContain(`page ${i + 1} of 2`);
    });
    expect(pdf.toString('latin1')).toMatch(/\/Title/);
  });

  it('prints each label: product, LOT, SN, EXP, HRI and Digital Link', () => {
    const [first = '', second = ''] = pdfPageTexts(pdf);
    expect(first).toContain('SN V0001');
    expect(first).toContain('SN V0040');
    expect(first).not.toContain('SN V0041');
    expect(second).toContain('SN V0045');
    expect(second).toContain('(01)09520012345674(17)271200(10)LYO24A01(21)V0045');
    expect(second).toContain('EXP 2027-12-31');
  });

  it('streams the same sheet', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of renderer.sheetPdfStream(title, labels)) chunks.push(chunk as Buffer);
    const streamed = Buffer.concat(chunks).toString('latin1');
    expect(streamed.match(/\/Type \/Page\b/g)).toHaveLength(2);
  });
});

describe('refusals, before anything is drawn', () => {
  const spaceInLot: VialLabel = {
    ...LABEL,
    humanReadable: '(01)09520012345674(17)271200(10)LYO 24A01(21)V0001',
    lot: 'LYO 24A01',
  };

  it('refuses a space in the lot with a DomainError naming field, AI and character (not a bwip-js error)', async () => {
    const refusal = (): string => renderer.svg(spaceInLot);
    expect(refusal).toThrow(DomainError);
    expect(refusal).toThrow(
      'AI (10) lot "LYO 24A01" contains a space at position 4, which is not in GS1 character set 82',
    );
    const e = thrownBy(refusal);
    expect(e).toMatchObject({
      code: ProblemCode.Gs1Charset,
      extensions: { field: 'humanReadable', ai: '10' },
    });
    expect((e as Error).message).not.toMatch(/bwip/);
    await expect(renderer.png(spaceInLot)).rejects.toMatchObject({ code: ProblemCode.Gs1Charset });
  });

  it('refuses the whole sheet synchronously, naming the bad label, before a byte is produced', async () => {
    const labels = [vial('V0001'), vial('V0002'), spaceInLot, vial('V0004')];
    expect(thrownBy(() => renderer.sheetPdfStream('Lot LYO24A01', labels))).toMatchObject({
      extensions: { field: 'labels[2].humanReadable', ai: '10', position: 4 },
    });
    await expect(renderer.sheetPdf('Lot LYO24A01', labels)).rejects.toThrow(/GS1 character set 82/);
    await expect(renderer.sheetPdf('', [LABEL])).rejects.toMatchObject({ extensions: { field: 'title' } });
    await expect(renderer.sheetPdf('Lot', [])).rejects.toMatchObject({ extensions: { field: 'labels' } });
  });

  const hri = LABEL.humanReadable;
  it.each<[string, Partial<VialLabel>, ProblemCode, RegExp]>([
    [
      'a bad GTIN check digit',
      { humanReadable: hri.replace('674', '675') },
      ProblemCode.Gs1CheckDigit,
      /check digit should be 4/,
    ],
    [
      'month 13',
      { humanReadable: hri.replace('271200', '271300') },
      ProblemCode.Gs1Date,
      /271300 is not a YYMMDD/,
    ],
    [
      'a short GTIN',
      { humanReadable: hri.replace('(01)0', '(01)') },
      ProblemCode.Gs1Length,
      /exactly 14 digits/,
    ],
    [
      'a 21-character lot',
      { humanReadable: hri.replace('LYO24A01', 'L'.repeat(21)), lot: 'L'.repeat(21) },
      ProblemCode.ValidationFailed,
      /lot is longer than 20/,
    ],
    [
      'a missing serial',
      { humanReadable: hri.replace('(21)V0001', '') },
      ProblemCode.Gs1Requisite,
      /missing \(21\)/,
    ],
    [
      'a duplicated AI',
      { humanReadable: `${hri}(10)X` },
      ProblemCode.Gs1DuplicateAi,
      /\(10\) appears more than once/,
    ],
    [
      'an AI a vial label does not carry',
      { humanReadable: `${hri}(99)X` },
      ProblemCode.Gs1UnknownAi,
      /\(99\) is not one/,
    ],
    ['text outside (AI) form', { humanReadable: `0109520012345674` }, ProblemCode.Gs1UnknownAi, /position 1/],
    ['a lot differing from (10)', { lot: 'LYO24A02' }, ProblemCode.ValidationFailed, /differs from \(10\)/],
    [
      'a serial differing from (21)',
      { serial: 'V0002' },
      ProblemCode.ValidationFailed,
      /differs from \(21\)/,
    ],
    [
      'an expiry differing from (17) 00 = last day',
      { expiry: '2027-12-30' },
      ProblemCode.ValidationFailed,
      /last day of the month/,
    ],
    [
      'an expiry that is not ISO',
      { expiry: '31.12.2027' },
      ProblemCode.ValidationFailed,
      /not an ISO calendar date/,
    ],
    [
      'a Digital Link for another serial',
      { digitalLink: LABEL.digitalLink.replace('V0001', 'V0002') },
      ProblemCode.Gs1DigitalLink,
      /\(21\) "V0002"/,
    ],
    [
      'a Digital Link without /01/',
      { digitalLink: 'https://id.gs1.org/10/LYO24A01' },
      ProblemCode.Gs1DigitalLink,
      /no \/01\//,
    ],
    [
      'a control character in the product name',
      { productName: 'Lyo\u0007' },
      ProblemCode.ValidationFailed,
      /U\+0007/,
    ],
    ['an empty product name', { productName: ' ' }, ProblemCode.ValidationFailed, /productName is required/],
  ])('refuses %s', (_, change, code, message) => {
    const label = { ...LABEL, ...change };
    expect(() => renderer.svg(label)).toThrow(message);
    expect(thrownBy(() => renderer.svg(label))).toMatchObject({ code });
  });

  it('accepts DD = 00 read as the last day of the month, and an exact day', () => {
    expect(() => renderer.svg(LABEL)).not.toThrow();
    const exact = { ...LABEL, humanReadable: hri.replace('271200', '271215'), expiry: '2027-12-15' };
    expect(() =>
      renderer.svg({ ...exact, digitalLink: exact.digitalLink.replace('271200', '271215') }),
    ).not.toThrow();
    // 29 February only in a leap year.
    const leap = hri.replace('271200', '280229');
    expect(() =>
      renderer.svg({
        ...LABEL,
        humanReadable: leap,
        expiry: '2028-02-29',
        digitalLink: 'https://x.example/01/09520012345674',
      }),
    ).not.toThrow();
    expect(
      thrownBy(() => renderer.svg({ ...LABEL, humanReadable: hri.replace('271200', '270229') })),
    ).toMatchObject({
      code: ProblemCode.Gs1Date,
    });
  });
});
