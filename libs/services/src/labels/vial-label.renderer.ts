import { type Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { ProblemCode } from '@lyotrace/contracts';
import { type Clock, DomainError } from '@lyotrace/domain';
import { CLOCK } from '@lyotrace/persistence';
import bwipjs, { type RenderOptions } from 'bwip-js';
import PDFDocument from 'pdfkit';
import { gs1DataMatrixPng } from './datamatrix-png.js';
import { checkVialLabel } from './vial-label.check.js';
import { type VialLabel, type VialLabelPngOptions } from './vial-label.types.js';

/** DataMatrix quiet zone, in modules, on every side (ISO/IEC 16022 asks for 1; 2 leaves room for print drift). */
const QUIET_MODULES = 2;
/** bwip-js draws a DataMatrix module as 2 units; its padding is in the same units. */
const UNITS_PER_MODULE = 2;
const QUIET_PADDING = QUIET_MODULES * UNITS_PER_MODULE;

/**
 * Smallest X-dimension drawn: GS1's minimum for a GS1 DataMatrix on healthcare items (0.254 mm, GS1 General
 * Specifications, symbol specification table for healthcare). Rounding to whole dots never goes below it.
 */
export const MIN_MODULE_MM = 0.254;

/** Largest sheet accepted in one request: 125 A4 pages. */
export const MAX_SHEET_LABELS = 5000;

/** Sheet grid: A4 portrait, 4 × 10 labels. */
export const SHEET_COLUMNS = 4;
export const SHEET_ROWS = 10;
export const LABELS_PER_PAGE = SHEET_COLUMNS * SHEET_ROWS;

const MM = 72 / 25.4;
/** Pixels a module in the sheet's embedded PNGs (1-bit; PDF viewers may smooth upscaled images, so not 1). */
const SHEET_PX_PER_MODULE = 4;

const xml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

/** A conservative width estimate (em) for laying out SVG text whose font the viewer picks. */
const estimateWidth = (text: string, size: number): number => text.length * size * 0.62;

/**
 * Draws GS1 DataMatrix vial labels as SVG, PNG and a printable A4 PDF sheet. Every input is checked first
 * (see `checkVialLabel`): nothing is drawn for a label whose element string is not valid GS1, or whose
 * printed LOT / SN / EXP / Digital Link disagree with the symbol.
 */
@Injectable()
export class VialLabelRenderer {
  /** @param clock the GS1 sliding window reads (17) around its year, as a scanner would today */
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  /**
   * A standalone SVG label (mm units): the symbol at the left with its quiet zone, product / LOT / SN / EXP to
   * its right, the HRI line and the Digital Link below. Width grows with the longest line; height is 20 mm.
   */
  svg(label: VialLabel): string {
    checkVialLabel(label, this.clock);
    const symbol = bwipjs.toSVG(this.symbolOptions(label.humanReadable));
    const parsed = /^<svg viewBox="([\d.\s]+)"[^>]*>([\s\S]*)<\/svg>\s*$/.exec(symbol.trim());
    if (!parsed) throw new Error('bwip-js returned an SVG this renderer does not recognise');

    const pad = 1.5;
    const box = 11;
    const textX = pad + box + 1.2;
    const sans = 'Helvetica, Arial, sans-serif';
    const mono = "'DejaVu Sans Mono', 'Courier New', monospace";
    const lines: { x: number; y: number; size: number; text: string; font: string; bold?: boolean }[] = [
      { x: textX, y: 3.9, size: 2.5, text: label.productName, font: sans, bold: true },
      { x: textX, y: 6.8, size: 2.1, text: `LOT ${label.lot}`, font: sans },
      { x: textX, y: 9.3, size: 2.1, text: `SN ${label.serial}`, font: sans },
      { x: textX, y: 11.8, size: 2.1, text: `EXP ${label.expiry}`, font: sans },
      { x: pad, y: 15.2, size: 1.7, text: label.humanReadable, font: mono },
      { x: pad, y: 18.1, size: 1.3, text: label.digitalLink, font: sans },
    ];
    const width = Math.max(50, ...lines.map((l) => l.x + estimateWidth(l.text, l.size) + pad));
    const w = Math.ceil(width * 10) / 10;
    const h = 20;
    const text = lines
      .map(
        (l) =>
          `<text x="${l.x}" y="${l.y}" font-family="${xml(l.font)}" font-size="${l.size}"` +
          `${l.bold ? ' font-weight="bold"' : ''}>${xml(l.text)}</text>`,
      )
      .join('\n    ');
    return [
      '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
      `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${w}mm" height="${h}mm" viewBox="0 0 ${w} ${h}" role="img" aria-label="${xml(`${label.productName} ${label.humanReadable}`)}">`,
      `  <title>${xml(`${label.productName} — LOT ${label.lot} SN ${label.serial}`)}</title>`,
      `  <rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
      `  <svg x="${pad}" y="${pad}" width="${box}" height="${box}" viewBox="${parsed[1]}" shape-rendering="crispEdges">`,
      `    ${(parsed[2] ?? '').trim()}`,
      '  </svg>',
      '  <g fill="#000000">',
      `    ${text}`,
      '  </g>',
      '</svg>',
      '',
    ].join('\n');
  }

  /**
   * The DataMatrix with its HRI line centred below, on white with the quiet zone, as PNG. The module is a
   * whole, even number of dots at `dpi` (nearest to `moduleMm`); the PNG records `dpi` so it prints to size.
   */
  async png(label: VialLabel, options: VialLabelPngOptions = {}): Promise<Buffer> {
    checkVialLabel(label, this.clock);
    const dpi = options.dpi ?? 300;
    const moduleMm = options.moduleMm ?? 0.34;
    const hriPt = options.hriPt ?? 6;
    const bad = (field: string, why: string): never => {
      throw new DomainError(ProblemCode.ValidationFailed, `${field} ${why}`, { field });
    };
    if (!Number.isFinite(dpi) || dpi < 72 || dpi > 2400) bad('dpi', 'must be between 72 and 2400');
    if (!Number.isFinite(moduleMm) || moduleMm < MIN_MODULE_MM || moduleMm > 2) {
      bad('moduleMm', `must be ${MIN_MODULE_MM} to 2 mm`);
    }
    if (!Number.isFinite(hriPt) || hriPt < 3 || hriPt > 24) bad('hriPt', 'must be 3 to 24 points');

    let scale = Math.max(1, Math.round((moduleMm * dpi) / 25.4 / UNITS_PER_MODULE));
    while ((UNITS_PER_MODULE * scale * 25.4) / dpi < MIN_MODULE_MM) scale++;
    const textsize = (hriPt / 72) * (dpi / scale);
    return bwipjs.toBuffer({
      ...this.symbolOptions(label.humanReadable, scale),
      includetext: true,
      alttext: label.humanReadable,
      textsize,
      textxalign: 'center',
      textyalign: 'below',
      textyoffset: -textsize / 4,
      dpi: Math.round(dpi),
    } as RenderOptions);
  }

  /**
   * An A4 sheet: `LABELS_PER_PAGE` labels a page (4 × 10), a header with the title and "page n of N" on every
   * page. All labels are checked before the first byte is produced. Resolves to the whole PDF.
   */
  async sheetPdf(title: string, labels: readonly VialLabel[]): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.sheetPdfStream(title, labels)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * The same sheet as a stream, to pipe into an HTTP reply: throws at once on invalid input; a failure while
   * drawing destroys the stream with that error.
   */
  sheetPdfStream(title: string, labels: readonly VialLabel[]): Readable {
    if (typeof title !== 'string' || title.trim() === '' || title.length > 200) {
      throw new DomainError(ProblemCode.ValidationFailed, 'title is required (at most 200 characters)', {
        field: 'title',
      });
    }
    const list: unknown = labels; // from a request body: not to be trusted to be an array
    if (!Array.isArray(list) || list.length === 0) {
      throw new DomainError(ProblemCode.ValidationFailed, 'a sheet needs at least one label', {
        field: 'labels',
      });
    }
    if (labels.length > MAX_SHEET_LABELS) {
      throw new DomainError(
        ProblemCode.ValidationFailed,
        `a sheet holds at most ${MAX_SHEET_LABELS} labels; got ${labels.length}`,
        { field: 'labels' },
      );
    }
    labels.forEach((label, i) => checkVialLabel(label, this.clock, `labels[${i}].`));

    const doc = new PDFDocument({
      size: 'A4',
      margin: 0,
      autoFirstPage: false,
      compress: true,
      info: { Title: title, Creator: 'lyotrace', Subject: `${labels.length} vial labels` },
    });
    void this.drawSheet(doc, title, labels).then(
      () => doc.end(),
      (error: unknown) => doc.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return doc;
  }

  private async drawSheet(
    doc: PDFKit.PDFDocument,
    title: string,
    labels: readonly VialLabel[],
  ): Promise<void> {
    const pages = Math.ceil(labels.length / LABELS_PER_PAGE);
    const margin = 10 * MM;
    const header = 9 * MM;
    const pageW = 595.28;
    const pageH = 841.89;
    const cellW = (pageW - 2 * margin) / SHEET_COLUMNS;
    const cellH = (pageH - 2 * margin - header) / SHEET_ROWS;
    for (let page = 0; page < pages; page++) {
      // One page at a time, letting other requests run in between: a 500-label sheet is 13 pages.
      if (page > 0) await nextTurn();
      doc.addPage({ size: 'A4', margin: 0 });
      this.drawHeader(doc, title, page + 1, pages, labels.length, { margin, header, pageW });
      labels.slice(page * LABELS_PER_PAGE, (page + 1) * LABELS_PER_PAGE).forEach((label, i) => {
        const x = margin + (i % SHEET_COLUMNS) * cellW;
        const y = margin + header + Math.floor(i / SHEET_COLUMNS) * cellH;
        this.drawCell(
          doc,
          label,
          gs1DataMatrixPng(label.humanReadable, SHEET_PX_PER_MODULE, QUIET_MODULES),
          x,
          y,
          cellW,
          cellH,
        );
      });
    }
  }

  private drawHeader(
    doc: PDFKit.PDFDocument,
    title: string,
    page: number,
    pages: number,
    count: number,
    box: { margin: number; header: number; pageW: number },
  ): void {
    const right = `${count} labels · page ${page} of ${pages}`;
    doc.font('Helvetica').fontSize(8);
    const rightW = doc.widthOfString(right);
    doc.text(right, box.pageW - box.margin - rightW, box.margin + 2, { lineBreak: false });
    doc.font('Helvetica-Bold').fontSize(11);
    const titleW = box.pageW - 2 * box.margin - rightW - 12;
    doc.text(fitText(doc, title, titleW), box.margin, box.margin, { lineBreak: false });
    doc
      .moveTo(box.margin, box.margin + box.header - 4)
      .lineTo(box.pageW - box.margin, box.margin + box.header - 4)
      .lineWidth(0.5)
      .strokeColor('#000000')
      .stroke();
  }

  private drawCell(
    doc: PDFKit.PDFDocument,
    label: VialLabel,
    png: Buffer,
    x: number,
    y: number,
    w: number,
    h: number,
  ): void {
    // Cut guide.
    doc.rect(x, y, w, h).lineWidth(0.25).strokeColor('#bbbbbb').stroke();
    const pad = 4;
    const box = 38; // ≈ 13.4 mm including the quiet zone
    doc.image(png, x + pad, y + pad, { width: box, height: box });
    const tx = x + pad + box + 3;
    const tw = w - (tx - x) - pad;
    doc.fillColor('#000000');
    // LOT, SN and EXP shrink to fit but are never cut; only an over-long product name is (with "…").
    doc.font('Helvetica-Bold');
    doc.fontSize(fitSize(doc, label.productName, tw, 7, 5));
    doc.text(fitText(doc, label.productName, tw), tx, y + pad + 2, { lineBreak: false });
    doc.font('Helvetica');
    const lines = [`LOT ${label.lot}`, `SN ${label.serial}`, `EXP ${label.expiry}`];
    const size = Math.min(...lines.map((line) => fitSize(doc, line, tw, 6.5, 3.5)));
    lines.forEach((line, i) => {
      doc.fontSize(size).text(line, tx, y + pad + 12 + i * 8.5, { lineBreak: false });
    });
    const fw = w - 2 * pad;
    doc.font('Courier');
    doc.fontSize(fitSize(doc, label.humanReadable, fw, 6, 3.6));
    doc.text(label.humanReadable, x + pad, y + pad + box + 3, { width: fw, lineBreak: true, height: 14 });
    doc.font('Helvetica');
    doc.fontSize(fitSize(doc, label.digitalLink, fw, 4.5, 3.2));
    doc.text(label.digitalLink, x + pad, y + pad + box + 12, {
      width: fw,
      lineBreak: true,
      height: h - box - 2 * pad - 12,
    });
  }

  /** bwip-js options for the symbol alone: GS1 DataMatrix, white background, quiet zone. */
  private symbolOptions(humanReadable: string, scale = 2): RenderOptions {
    return {
      bcid: 'gs1datamatrix',
      text: humanReadable,
      scale,
      padding: QUIET_PADDING,
      backgroundcolor: 'FFFFFF',
    };
  }
}

/** The largest font size in [min, max] at which `text` fits `width` on one line with the current font. */
function fitSize(doc: PDFKit.PDFDocument, text: string, width: number, max: number, min: number): number {
  const atOne = doc.fontSize(1).widthOfString(text);
  return Math.max(min, Math.min(max, atOne > 0 ? width / atOne : max));
}

/** `text`, cut with an ellipsis to fit `width` at the current font and size. */
function fitText(doc: PDFKit.PDFDocument, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  let cut = text;
  while (cut.length > 1 && doc.widthOfString(`${cut}…`) > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}
