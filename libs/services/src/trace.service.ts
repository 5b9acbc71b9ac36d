import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { ProblemCode } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  fromMicro,
  GS,
  parseDigitalLink,
  parseElementString,
  toMicro,
} from '@lyotrace/domain';
import {
  CLOCK,
  GenealogyRepository,
  TraceRepository,
  type TraceEdgeRow,
  type TraceLotRow,
  type TraceVialRow,
} from '@lyotrace/persistence';

export interface TraceNode {
  id: string;
  code: string;
  kind: string;
  status: string;
  gtin: string | null;
  quantity: string;
  remainingQuantity: string;
  unit: string;
  expiry: string | null;
  site: { id: string; code: string };
  externalIds: Record<string, string>;
  attributes: Record<string, unknown>;
  recordedBy: { id: string; name: string };
  recordedAt: string;
}

export interface TraceEdge {
  from: string;
  to: string;
  transformationId: string;
  occurredAt: string;
  operator: { id: string; name: string };
  consumed: { quantity: string; unit: string };
  produced: { quantity: string; unit: string };
}

export interface TraceVial {
  id: string;
  lotId: string;
  lotCode: string;
  gtin: string;
  serial: string;
  expiry: string;
  state: string;
  holder: { siteId: string; siteCode: string };
  recalled: boolean;
}

export interface TraceRef {
  type: 'lot' | 'vial';
  lotId: string;
  vialId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const qty = (v: string): string => fromMicro(toMicro(v));

const toNode = (l: TraceLotRow): TraceNode => ({
  id: l.id,
  code: l.code,
  kind: l.kind,
  status: l.status,
  gtin: l.gtin,
  quantity: qty(l.quantity),
  remainingQuantity: qty(l.remaining_quantity),
  unit: l.unit,
  expiry: l.expiry,
  site: { id: l.site_id, code: l.site_code },
  externalIds: l.external_ids,
  attributes: l.attributes,
  recordedBy: { id: l.recorded_by, name: l.recorder_name },
  recordedAt: l.recorded_at.toISOString(),
});

const toEdge = (e: TraceEdgeRow): TraceEdge => ({
  from: e.parent_lot_id,
  to: e.child_lot_id,
  transformationId: e.transformation_id,
  occurredAt: e.occurred_at.toISOString(),
  operator: { id: e.operator_id, name: e.operator_name },
  consumed: { quantity: qty(e.input_quantity), unit: e.input_unit },
  produced: { quantity: qty(e.output_quantity), unit: e.output_unit },
});

export const toTraceVial = (v: TraceVialRow): TraceVial => ({
  id: v.id,
  lotId: v.lot_id,
  lotCode: v.lot_code,
  gtin: v.gtin,
  serial: v.serial,
  expiry: v.expiry,
  state: v.state,
  holder: { siteId: v.holder_site_id, siteCode: v.holder_site_code },
  recalled: v.recall_id !== null,
});

/** The human-readable form `(01)…(21)…` as printed under a barcode, turned into an element string. */
function fromHumanReadable(ref: string): string {
  return ref.replace(/\((\d{2,4})\)/g, `${GS}$1`).replace(new RegExp(`^${GS}`), '');
}

/**
 * Traces through the genealogy (ARCHITECTURE.md §4 flows 6–7): backward from a vial or lot to the donor,
 * forward from any node to every lot and vial made from it.
 */
@Injectable()
export class TraceService {
  constructor(
    private readonly trace: TraceRepository,
    private readonly genealogy: GenealogyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `ref` is an internal id, a lot code, a vial's GS1 element string (scan data, or the printed `(01)…`
   * form) or its GS1 Digital Link URI. A GS1 reference that does not parse is refused with its GS1_* code.
   */
  async resolve(ref: string): Promise<TraceRef> {
    const raw = ref.trim();
    const unknown = () =>
      new DomainError(ProblemCode.TraceRefUnknown, `nothing is known as ${raw}`, { field: 'ref' });
    if (UUID.test(raw)) {
      if (await this.genealogy.findLot(raw)) return { type: 'lot', lotId: raw, vialId: null };
      const vial = await this.genealogy.findVial(raw);
      if (vial) return { type: 'vial', lotId: vial.lotId, vialId: vial.id };
      throw unknown();
    }
    const gs1 = /^https?:\/\//i.test(raw)
      ? parseDigitalLink(raw, this.clock)
      : raw.startsWith(']') || raw.includes(GS) || /^\(\d{2,4}\)/.test(raw)
        ? parseElementString(raw.startsWith('(') ? fromHumanReadable(raw) : raw, this.clock)
        : null;
    if (!gs1) {
      const lot = await this.genealogy.findLotByCode(raw);
      if (!lot) throw unknown();
      return { type: 'lot', lotId: lot.id, vialId: null };
    }
    if (gs1.gtin && gs1.serial) {
      const vial = await this.genealogy.findVialBySgtin(gs1.gtin, gs1.serial);
      if (!vial) throw unknown();
      return { type: 'vial', lotId: vial.lotId, vialId: vial.id };
    }
    if (gs1.gtin && gs1.lot) {
      const lot = await this.genealogy.findLotByCode(gs1.lot);
      const product = lot?.productId ? await this.genealogy.findProduct(lot.productId) : null;
      if (!lot || product?.gtin !== gs1.gtin) throw unknown();
      return { type: 'lot', lotId: lot.id, vialId: null };
    }
    throw new DomainError(
      ProblemCode.TraceRefUnknown,
      'a GS1 reference needs (01) with (21) for a vial, or (01) with (10) for a lot',
      { field: 'ref' },
    );
  }

  async backward(
    ref: string,
  ): Promise<{ ref: TraceRef; vial: TraceVial | null; lots: TraceNode[]; edges: TraceEdge[] }> {
    const resolved = await this.resolve(ref);
    const { lots, edges } = await this.trace.backward(resolved.lotId);
    const vial = resolved.vialId ? await this.vial(resolved.vialId) : null;
    return { ref: resolved, vial, lots: lots.map(toNode), edges: edges.map(toEdge) };
  }

  async forward(
    ref: string,
    page: { limit: number; after?: string },
  ): Promise<{
    ref: TraceRef;
    lots: TraceNode[];
    edges: TraceEdge[];
    vials: { total: number; items: TraceVial[]; nextAfter: string | null };
  }> {
    const resolved = await this.resolve(ref);
    // From a vial, "forward" is that vial only; from a lot, every lot and vial downstream.
    if (resolved.vialId) {
      const vial = await this.vial(resolved.vialId);
      return {
        ref: resolved,
        lots: [],
        edges: [],
        vials: { total: 1, items: vial ? [vial] : [], nextAfter: null },
      };
    }
    const [{ lots, edges, vialCount }, rows] = await Promise.all([
      this.trace.forwardGraph(resolved.lotId),
      this.trace.forwardVials(resolved.lotId, page.limit + 1, page.after),
    ]);
    const more = rows.length > page.limit;
    const shown = (more ? rows.slice(0, page.limit) : rows).map(toTraceVial);
    return {
      ref: resolved,
      lots: lots.map(toNode),
      edges: edges.map(toEdge),
      vials: {
        total: vialCount,
        items: shown,
        nextAfter: more ? (shown[shown.length - 1]?.id ?? null) : null,
      },
    };
  }

  /** The downstream graph and every downstream vial as a row stream (NDJSON), for one resolution of `ref`. */
  async forwardStream(ref: string): Promise<{
    ref: TraceRef;
    lots: TraceNode[];
    edges: TraceEdge[];
    vialTotal: number;
    stream: Readable;
    release: () => Promise<void>;
  }> {
    const resolved = await this.resolve(ref);
    const { lots, edges, vialCount } = await this.trace.forwardGraph(resolved.lotId);
    return {
      ref: resolved,
      lots: lots.map(toNode),
      edges: edges.map(toEdge),
      vialTotal: vialCount,
      ...(await this.trace.streamForwardVials(resolved.lotId)),
    };
  }

  private async vial(vialId: string): Promise<TraceVial | null> {
    const row = await this.trace.vial(vialId);
    return row ? toTraceVial(row) : null;
  }
}
