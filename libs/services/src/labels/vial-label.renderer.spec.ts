import { inflateSync } from 'node:zlib';
import { ProblemCode } from '@lyotrace/contracts';
import {
  DomainError,
  FixedClock,
  formatElementString,
  GS,
  type Gs1ElementString,
  parseElementString,
  parseHumanReadable,
} from '@lyotrace/domain';
import zxing, { type BarcodeFormat, type DecodeHintType } from '@zxing/library';
import pngjs from 'pngjs';
import { gs1DataMatrixPng } from './datamatrix-png.js';
import { LABELS_PER_PAGE, VialLabelRenderer } from './vial-label.renderer.js';
import { type VialLabel } from './vial-label.types.js';

const clock = new FixedClock(new Date('2026-06-15T12:00:00Z'));

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
 * What a scanner would report: zxing (0.21) gives a GS1 DataMatrix as the element string with FNC1 written as
 * GS (0x1D) — a leading GS for the FNC1 in first position, then GS after each variable-length AI not last —
 * and no symbology identifier, which a scanner would send as `]d2`. Read by the domain's scan parser.
 */
const scanned = (decoded: string): Gs1ElementString =>
  parseElementString(decoded.startsWith(']') ? decoded : `]d2${decoded}`, clock);

/** The AIs, in order, that the label's human-readable line says the symbol holds. */
const printed = (hri: string): unknown => parseHumanReadable(hri, clock).ais;

/** What `fn` throws (fails the test when it does not throw). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

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

const renderer = new VialLabelRenderer(clock);

describe('VialLabelRenderer.png', () => {
  it('decodes back (zxing) to the element string of the HRI: FNC1 and separators as GS', async () => {
    const { text, format } = decode(await renderer.png(LABEL), false);
    expect(format).toBe(zxing.BarcodeFormat.DATA_MATRIX);
    // What zxing returns, verbatim: leading GS for FNC1, GS after the lot, nothing after the last AI.
    expect(text).toBe(`${GS}01095200123456741727120010LYO24A01${GS}21V0001`);
    expect(scanned(text)).toMatchObject({ symbology: 'gs1-datamatrix', ais: printed(LABEL.humanReadable) });
    // The symbol holds exactly the element string the domain writes for this vial (GET …/identifiers).
    expect(`]d2${text.slice(1)}`).toBe(
      formatElementString(parseHumanReadable(LABEL.humanReadable, clock).ais, { symbology: ']d2' }),
    );
  });

  it.each([
    ['a variable AI in the middle (GS after it)', '(01)09520012345674(10)LYO24A01(17)271200(21)V0001'],
    [
      '20-character lot and serial using CSET 82 punctuation',
      `(01)09520012345674(17)280229(10)A-1/B.2_C%D&E'F*G+"H(21)Zz9:;<=>?!,xyz012345`,
    ],
    ['a real expiry day', '(01)09506000134352(17)260331(10)B7(21)1'],
    ['")" in the lot (only "(" is ambiguous in this form)', '(01)09520012345674(17)271200(10)A)B(21)V1'],
    ['a production date with DD = 00', '(01)09520012345674(11)260100(17)271200(10)L1(21)S1'],
  ])('decodes %s', async (_, hri) => {
    const { gtin = '', lot = '', serial = '', expiry = '' } = parseHumanReadable(hri, clock);
    const label: VialLabel = {
      humanReadable: hri,
      digitalLink: `https://example.com/01/${gtin}/21/${encodeURIComponent(serial)}`,
      productName: 'Lyosecretome 50 mg',
      lot,
      serial,
      expiry,
    };
    const { text } = decode(await renderer.png(label), false);
    expect(scanned(text).ais).toEqual(printed(hri));
  });

  it.each([203, 300, 600])('decodes at %i dpi and records the resolution in pHYs', async (dpi) => {
    const png = await renderer.png(LABEL, { dpi });
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const phys = png.indexOf('pHYs');
    expect(phys).toBeGreaterThan(0);
    expect(png.readUInt32BE(phys + 4)).toBe(Math.floor(dpi / 0.0254)); // pixels per metre, x
    expect(scanned(decode(png, false).text).ais).toEqual(printed(LABEL.humanReadable));
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
    expect(scanned(decode(png, true).text).ais).toEqual(printed(LABEL.humanReadable));
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
  /** Offset of the space in `spaceInLot.humanReadable`: where a screen would point. */
  const SPACE_AT = spaceInLot.humanReadable.indexOf(' ');

  it('refuses a space in the lot with the domain’s GS1 error naming field, AI and character (not a bwip-js error)', async () => {
    const refusal = (): string => renderer.svg(spaceInLot);
    expect(refusal).toThrow(DomainError);
    expect(refusal).toThrow('(10) batch/lot may only use GS1 character set 82; U+0020 at character 4 is not');
    const e = thrownBy(refusal);
    expect(e).toMatchObject({
      code: ProblemCode.Gs1Charset,
      extensions: { field: 'humanReadable', ai: '10', position: SPACE_AT },
    });
    expect(SPACE_AT).toBe(35);
    expect((e as Error).message).not.toMatch(/bwip/);
    await expect(renderer.png(spaceInLot)).rejects.toMatchObject({ code: ProblemCode.Gs1Charset });
  });

  it('refuses the whole sheet synchronously, naming the bad label, before a byte is produced', async () => {
    const labels = [vial('V0001'), vial('V0002'), spaceInLot, vial('V0004')];
    expect(thrownBy(() => renderer.sheetPdfStream('Lot LYO24A01', labels))).toMatchObject({
      extensions: { field: 'labels[2].humanReadable', ai: '10', position: SPACE_AT },
    });
    await expect(renderer.sheetPdf('Lot LYO24A01', labels)).rejects.toThrow(/GS1 character set 82/);
    await expect(renderer.sheetPdf('', [LABEL])).rejects.toMatchObject({ extensions: { field: 'title' } });
    await expect(renderer.sheetPdf('Lot', [])).rejects.toMatchObject({ extensions: { field: 'labels' } });
  });

  const hri = LABEL.humanReadable;
  const link = LABEL.digitalLink;
  it.each<[string, Partial<VialLabel>, ProblemCode, RegExp, Record<string, unknown>]>([
    [
      'a bad GTIN check digit',
      { humanReadable: hri.replace('674', '675') },
      ProblemCode.Gs1CheckDigit,
      /\(01\) GTIN 09520012345675 has a wrong check digit: expected 4, got 5/,
      { field: 'humanReadable', ai: '01', position: 0 },
    ],
    [
      'month 13',
      { humanReadable: hri.replace('271200', '271300') },
      ProblemCode.Gs1Date,
      /\(17\) month must be 01 to 12, got 13/,
      { field: 'humanReadable', ai: '17', position: 18 },
    ],
    [
      'a short GTIN',
      { humanReadable: hri.replace('(01)0', '(01)') },
      ProblemCode.Gs1Length,
      /exactly 14 digits, got 13/,
      { field: 'humanReadable', ai: '01' },
    ],
    [
      'a 21-character lot',
      { humanReadable: hri.replace('LYO24A01', 'L'.repeat(21)), lot: 'L'.repeat(21) },
      ProblemCode.ValidationFailed,
      /lot is longer than 20/,
      { field: 'lot' },
    ],
    [
      'a 21-character lot in the symbol only',
      { humanReadable: hri.replace('LYO24A01', 'L'.repeat(21)) },
      ProblemCode.Gs1Length,
      /\(10\) batch\/lot must be 1 to 20 characters, got 21/,
      { field: 'humanReadable', ai: '10' },
    ],
    [
      'a missing serial (the symbol names a lot, not a vial)',
      { humanReadable: hri.replace('(21)V0001', '') },
      ProblemCode.Gs1SerialMissing,
      /\(21\) serial is missing/,
      { field: 'humanReadable', ai: '21' },
    ],
    [
      'a missing expiry',
      { humanReadable: hri.replace('(17)271200', '') },
      ProblemCode.Gs1Requisite,
      /missing \(17\)/,
      { field: 'humanReadable', ai: '17' },
    ],
    [
      'a missing lot',
      { humanReadable: hri.replace('(10)LYO24A01', '') },
      ProblemCode.Gs1Requisite,
      /missing \(10\)/,
      { field: 'humanReadable', ai: '10' },
    ],
    [
      'a duplicated AI',
      { humanReadable: `${hri}(10)X` },
      ProblemCode.Gs1DuplicateAi,
      /\(10\) batch\/lot appears more than once/,
      { field: 'humanReadable', ai: '10', position: hri.length },
    ],
    [
      'an AI a vial label does not carry',
      { humanReadable: `${hri}(99)X` },
      ProblemCode.Gs1UnknownAi,
      /\(99\) is not one a vial label carries/,
      { field: 'humanReadable', ai: '99' },
    ],
    [
      'an SSCC in a vial’s symbol',
      { humanReadable: `(00)095200123456789016${hri}` },
      ProblemCode.Gs1UnknownAi,
      /\(00\) is not one a vial label carries/,
      { field: 'humanReadable', ai: '00' },
    ],
    [
      'an AI GS1 has but we do not read',
      { humanReadable: `${hri}(240)X` },
      ProblemCode.Gs1UnknownAi,
      /AI \(240\) is not supported/,
      { field: 'humanReadable', ai: '240', position: hri.length },
    ],
    [
      'text outside (AI) form',
      { humanReadable: `0109520012345674` },
      ProblemCode.Gs1UnknownAi,
      /AI in parentheses, such as \(01\); found '0' \(U\+0030\) at character 1/,
      { field: 'humanReadable', position: 0 },
    ],
    [
      'a "(" in the lot, which the (AI) form cannot carry',
      { humanReadable: hri.replace('LYO24A01', 'LYO(24'), lot: 'LYO(24' },
      ProblemCode.Gs1Charset,
      /cannot tell apart from the start of an AI/,
      { field: 'humanReadable', ai: '10', position: 35 },
    ],
    [
      'a lot differing from (10)',
      { lot: 'LYO24A02' },
      ProblemCode.ValidationFailed,
      /differs from \(10\)/,
      { field: 'lot', ai: '10' },
    ],
    [
      'a serial differing from (21)',
      { serial: 'V0002' },
      ProblemCode.ValidationFailed,
      /differs from \(21\)/,
      { field: 'serial', ai: '21' },
    ],
    [
      'an expiry differing from (17) 00 = last day',
      { expiry: '2027-12-30' },
      ProblemCode.ValidationFailed,
      /last day of the month/,
      { field: 'expiry', ai: '17' },
    ],
    [
      'an expiry a century away from what scanners read in (17)',
      { expiry: '2127-12-31' },
      ProblemCode.ValidationFailed,
      /differs from \(17\) 271200 in the symbol, which reads as 2027-12-31/,
      { field: 'expiry', ai: '17' },
    ],
    [
      'an expiry that is not ISO',
      { expiry: '31.12.2027' },
      ProblemCode.ValidationFailed,
      /not an ISO calendar date/,
      { field: 'expiry' },
    ],
    [
      'an expiry that is no calendar date',
      { expiry: '2027-02-30' },
      ProblemCode.ValidationFailed,
      /not an ISO calendar date/,
      { field: 'expiry' },
    ],
    [
      'a Digital Link for another serial',
      { digitalLink: link.replace('V0001', 'V0002') },
      ProblemCode.Gs1DigitalLink,
      /\(21\) "V0002" but the symbol says "V0001"/,
      { field: 'digitalLink', ai: '21' },
    ],
    [
      'a Digital Link with another expiry',
      { digitalLink: link.replace('17=271200', '17=271231') },
      ProblemCode.Gs1DigitalLink,
      /\(17\) "271231" but the symbol says "271200"/,
      { field: 'digitalLink', ai: '17' },
    ],
    [
      'a Digital Link saying what the symbol does not',
      { digitalLink: `${link}&11=260101` },
      ProblemCode.Gs1DigitalLink,
      /\(11\) "260101" but the symbol has no \(11\)/,
      { field: 'digitalLink', ai: '11' },
    ],
    [
      'a Digital Link without /01/',
      { digitalLink: 'https://id.gs1.org/10/LYO24A01' },
      ProblemCode.Gs1DigitalLink,
      /no GS1 key in the path/,
      { field: 'digitalLink' },
    ],
    [
      'a Digital Link of an SSCC',
      { digitalLink: 'https://id.gs1.org/00/095200123456789016' },
      ProblemCode.Gs1DigitalLink,
      /names \(00\) SSCC 095200123456789016, not the vial's \(01\) GTIN/,
      { field: 'digitalLink', ai: '00' },
    ],
    [
      'a Digital Link with its qualifiers out of order',
      { digitalLink: 'https://id.gs1.org/01/09520012345674/21/V0001/10/LYO24A01' },
      ProblemCode.Gs1DigitalLink,
      /out of order/,
      { field: 'digitalLink', ai: '10' },
    ],
    [
      'a Digital Link with a bad check digit',
      { digitalLink: link.replace('674', '675') },
      ProblemCode.Gs1CheckDigit,
      /wrong check digit/,
      { field: 'digitalLink', ai: '01' },
    ],
    [
      'a control character in the product name',
      { productName: 'Lyo\u0007' },
      ProblemCode.ValidationFailed,
      /productName contains control character U\+0007/,
      { field: 'productName' },
    ],
    [
      'an empty product name',
      { productName: ' ' },
      ProblemCode.ValidationFailed,
      /productName is required/,
      { field: 'productName' },
    ],
  ])('refuses %s', (_, change, code, message, extensions) => {
    const label = { ...LABEL, ...change };
    expect(() => renderer.svg(label)).toThrow(message);
    expect(thrownBy(() => renderer.svg(label))).toMatchObject({ code, extensions });
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
