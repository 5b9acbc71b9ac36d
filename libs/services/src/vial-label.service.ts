import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { formatDigitalLink, formatElementString, formatHumanReadable, notFound } from '@lyotrace/domain';
import { GenealogyRepository, type VialEntity } from '@lyotrace/persistence';
import { VialLabelRenderer, type VialLabel } from './labels/index.js';

export interface VialIdentifiers {
  /** GS1 element string as a DataMatrix carries it (FNC1 implied by `]d2`, GS between variable AIs). */
  elementString: string;
  humanReadable: string;
  digitalLink: string;
}

/** GS1 identifiers and printable labels of commissioned vials. */
@Injectable()
export class VialLabelService {
  constructor(
    private readonly genealogy: GenealogyRepository,
    private readonly renderer: VialLabelRenderer,
  ) {}

  async identifiers(vialId: string): Promise<VialIdentifiers> {
    const { vial, lotCode } = await this.load(vialId);
    return this.identify(vial, lotCode);
  }

  async svg(vialId: string): Promise<string> {
    return this.renderer.svg(await this.label(vialId));
  }

  async png(vialId: string): Promise<Buffer> {
    return this.renderer.png(await this.label(vialId));
  }

  /** A printable A4 sheet of every vial of a lot. */
  async sheet(lotId: string): Promise<{ filename: string; stream: Readable }> {
    const lot = await this.genealogy.findLot(lotId);
    if (!lot) throw notFound('lot');
    const product = lot.productId ? await this.genealogy.findProduct(lot.productId) : null;
    const vials = await this.genealogy.listVials(lotId, 5000);
    const labels = vials.map((v) => this.toLabel(v, lot.code, product?.name ?? ''));
    return {
      filename: `labels-${lot.code}.pdf`,
      stream: this.renderer.sheetPdfStream(`Lot ${lot.code} — ${product?.name ?? ''}`, labels),
    };
  }

  private identify(vial: VialEntity, lotCode: string): VialIdentifiers {
    const item = { gtin: vial.gtin, lot: lotCode, serial: vial.serial, expiry: vial.expiry };
    return {
      elementString: formatElementString(item, { symbology: ']d2' }),
      humanReadable: formatHumanReadable(item),
      digitalLink: formatDigitalLink(item),
    };
  }

  private async load(vialId: string): Promise<{ vial: VialEntity; lotCode: string; productName: string }> {
    const vial = await this.genealogy.findVial(vialId);
    if (!vial) throw notFound('vial');
    const lot = (await this.genealogy.findLot(vial.lotId))!;
    const product = lot.productId ? await this.genealogy.findProduct(lot.productId) : null;
    return { vial, lotCode: lot.code, productName: product?.name ?? '' };
  }

  private async label(vialId: string): Promise<VialLabel> {
    const { vial, lotCode, productName } = await this.load(vialId);
    return this.toLabel(vial, lotCode, productName);
  }

  private toLabel(vial: VialEntity, lotCode: string, productName: string): VialLabel {
    const ids = this.identify(vial, lotCode);
    return {
      humanReadable: ids.humanReadable,
      digitalLink: ids.digitalLink,
      productName,
      lot: lotCode,
      serial: vial.serial,
      expiry: vial.expiry,
    };
  }
}
