import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { type Actor, ProblemCode, type VialHolderView } from '@lyotrace/contracts';
import {
  type Clock,
  DomainError,
  fromMicro,
  GS,
  parseScan,
  readableSiteIds,
  toMicro,
} from '@lyotrace/domain';
import {
  CLOCK,
  GenealogyRepository,
  TraceRepository,
  type TraceDoseRow,
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
  /** Where it is now: site, and within it a location or a shipper (on a shipment when in transit). */
  holder: VialHolderView & { siteId: string; siteCode: string };
  /** A QA hold (quarantine, under investigation), if any. */
  hold: string | null;
  recalled: boolean;
  /** Once dispensed: the dose and the clinic's pseudonym for the patient (recall follow-up). */
  dose: { id: string; administeredAt: string; site: { id: string; code: string }; patientRef: string } | null;
}

export interface TraceDose {
  id: string;
  vialId: string;
  administeredAt: string;
  volumeMl: string;
  route: string;
  version: number;
  site: { id: string; code: string };
  patient: { id: string; ref: string };
  recordedBy: { id: string; name: string };
}

export interface TraceRef {
  type: 'lot' | 'vial' | 'dose' | 'patient';
  /** The lot traced from: the vial's or the dose's lot; null for a patient (their doses may span lots). */
  lotId: string | null;
  vialId: string | null;
  doseId: string | null;
  patientId: string | null;
}

export interface BackwardTrace {
  ref: TraceRef;
  /** Set when traced from a dose or a patient. */
  patient: { id: string; ref: string; site: { id: string; code: string } } | null;
  doses: TraceDose[];
  /** The vial traced from (or the one vial of a dose). */
  vial: TraceVial | null;
  /** Every vial the trace starts from (a patient's doses may be several). */
  vials: TraceVial[];
  lots: TraceNode[];
  edges: TraceEdge[];
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
  holder: {
    siteId: v.holder_site_id,
    siteCode: v.holder_site_code,
    locationId: v.location_id,
    locationCode: v.location_code,
    containerId: v.container_id,
    sscc: v.sscc,
    shipmentId: v.shipment_id,
  },
  hold: v.hold,
  recalled: v.recall_id !== null,
  dose:
    v.dose_id && v.administered_at && v.dose_site_id && v.patient_ref !== null
      ? {
          id: v.dose_id,
          administeredAt: v.administered_at.toISOString(),
          site: { id: v.dose_site_id, code: v.dose_site_code ?? '' },
          patientRef: v.patient_ref,
        }
      : null,
});

const toTraceDose = (d: TraceDoseRow): TraceDose => ({
  id: d.id,
  vialId: d.vial_id,
  administeredAt: d.administered_at.toISOString(),
  volumeMl: d.volume_ml,
  route: d.route,
  version: d.version,
  site: { id: d.site_id, code: d.site_code },
  patient: { id: d.patient_id, ref: d.patient_ref },
  recordedBy: { id: d.recorded_by, name: d.recorder_name },
});

const PATIENT_PREFIX = 'patient:';

/**
 * Traces through the genealogy (ARCHITECTURE.md §4 flows 6–7): backward from a patient, dose, vial or lot to
 * the donor, forward from any node to every lot and vial made from it, with their holders and doses.
 */
@Injectable()
export class TraceService {
  constructor(
    private readonly trace: TraceRepository,
    private readonly genealogy: GenealogyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `ref` is an internal id (lot, vial or dose), a lot code, a vial's GS1 element string (scan data, or the
   * printed `(01)…` form), its GS1 Digital Link URI, or a patient: `patient:<ref>` for a clinic user (its own
   * clinic), `patient:<SITECODE>/<ref>` otherwise. A GS1 reference that does not parse is refused with its GS1_*
   * code. ARCHITECTURE.md §1: a clinic traces only its own vials, doses and patients; anything else, lots
   * included, is "unknown" to it (404), never "forbidden" (which would confirm it exists).
   */
  async resolve(ref: string, actor: Actor): Promise<TraceRef> {
    const raw = ref.trim();
    const scope = readableSiteIds(actor);
    const unknown = () =>
      new DomainError(ProblemCode.TraceRefUnknown, `nothing is known as ${raw}`, { field: 'ref' });
    const lotRef = (lotId: string): TraceRef => {
      if (scope) throw unknown();
      return { type: 'lot', lotId, vialId: null, doseId: null, patientId: null };
    };
    const vialRef = (vial: { id: string; lotId: string; holderSiteId: string }): TraceRef => {
      if (scope && !scope.includes(vial.holderSiteId)) throw unknown();
      return { type: 'vial', lotId: vial.lotId, vialId: vial.id, doseId: null, patientId: null };
    };
    if (raw.toLowerCase().startsWith(PATIENT_PREFIX)) {
      const body = raw.slice(PATIENT_PREFIX.length);
      const slash = body.indexOf('/');
      const patient =
        slash >= 0
          ? await this.trace.findPatient({ code: body.slice(0, slash) }, body.slice(slash + 1), scope)
          : scope?.length === 1
            ? await this.trace.findPatient({ id: scope[0]! }, body, scope)
            : null;
      if (!patient) {
        throw slash < 0 && !scope
          ? new DomainError(
              ProblemCode.TraceRefUnknown,
              'a patient reference names its clinic: patient:<SITECODE>/<ref>',
              { field: 'ref' },
            )
          : unknown();
      }
      return { type: 'patient', lotId: null, vialId: null, doseId: null, patientId: patient.id };
    }
    if (UUID.test(raw)) {
      if (await this.genealogy.findLot(raw)) return lotRef(raw);
      const vial = await this.genealogy.findVial(raw);
      if (vial) return vialRef(vial);
      const dose = await this.trace.findDoseRef(raw, scope);
      if (dose) {
        return {
          type: 'dose',
          lotId: dose.lot_id,
          vialId: dose.vial_id,
          doseId: dose.dose_id,
          patientId: dose.patient_id,
        };
      }
      throw unknown();
    }
    // A GS1 form (Digital Link, scanner data, printed `(01)…`) is a vial or a lot; anything else a lot code.
    const gs1 =
      /^https?:\/\//i.test(raw) || raw.startsWith(']') || raw.includes(GS) || /^\(\d{2,4}\)/.test(raw)
        ? parseScan(raw, this.clock)
        : null;
    if (!gs1) {
      const lot = await this.genealogy.findLotByCode(raw);
      if (!lot) throw unknown();
      return lotRef(lot.id);
    }
    if (gs1.gtin && gs1.serial) {
      const vial = await this.genealogy.findVialBySgtin(gs1.gtin, gs1.serial);
      if (!vial) throw unknown();
      return vialRef(vial);
    }
    if (gs1.gtin && gs1.lot) {
      const lot = await this.genealogy.findLotByCode(gs1.lot);
      const product = lot?.productId ? await this.genealogy.findProduct(lot.productId) : null;
      if (!lot || product?.gtin !== gs1.gtin) throw unknown();
      return lotRef(lot.id);
    }
    throw new DomainError(
      ProblemCode.TraceRefUnknown,
      'a GS1 reference needs (01) with (21) for a vial, or (01) with (10) for a lot',
      { field: 'ref' },
    );
  }

  async backward(ref: string, actor: Actor): Promise<BackwardTrace> {
    const resolved = await this.resolve(ref, actor);
    if (resolved.doseId || resolved.patientId) {
      // patient → dose(s) → vial(s) → lot → … → donor: one statement.
      const chain = await this.trace.doseChain(
        resolved.type === 'dose' ? { doseId: resolved.doseId! } : { patientId: resolved.patientId! },
      );
      const doses = chain.doses.map(toTraceDose);
      const vials = chain.vials.map(toTraceVial);
      const first = chain.doses[0];
      return {
        ref: resolved,
        patient: first
          ? {
              id: first.patient_id,
              ref: first.patient_ref,
              site: { id: first.site_id, code: first.site_code },
            }
          : null,
        doses,
        vial: resolved.type === 'dose' ? (vials[0] ?? null) : null,
        vials,
        lots: chain.lots.map(toNode),
        edges: chain.edges.map(toEdge),
      };
    }
    const { lots, edges } = await this.trace.backward(resolved.lotId!);
    const vial = resolved.vialId ? await this.vial(resolved.vialId) : null;
    return {
      ref: resolved,
      patient: null,
      doses: [],
      vial,
      vials: vial ? [vial] : [],
      lots: lots.map(toNode),
      edges: edges.map(toEdge),
    };
  }

  async forward(
    ref: string,
    page: { limit: number; after?: string },
    actor: Actor,
  ): Promise<{
    ref: TraceRef;
    lots: TraceNode[];
    edges: TraceEdge[];
    vials: { total: number; items: TraceVial[]; nextAfter: string | null };
  }> {
    const resolved = await this.resolve(ref, actor);
    // From a vial, dose or patient, "forward" is those vials only; from a lot, every lot and vial downstream.
    if (resolved.type !== 'lot') {
      const items = (await this.startVials(resolved)).map(toTraceVial);
      return { ref: resolved, lots: [], edges: [], vials: { total: items.length, items, nextAfter: null } };
    }
    const lotId = resolved.lotId!;
    const [{ lots, edges, vialCount }, rows] = await Promise.all([
      this.trace.forwardGraph(lotId),
      this.trace.forwardVials(lotId, page.limit + 1, page.after),
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
  async forwardStream(
    ref: string,
    actor: Actor,
  ): Promise<{
    ref: TraceRef;
    lots: TraceNode[];
    edges: TraceEdge[];
    vialTotal: number;
    stream: Readable;
    release: () => Promise<void>;
  }> {
    const resolved = await this.resolve(ref, actor);
    if (resolved.type !== 'lot') {
      // The same answer as the JSON form: the vials named, no graph.
      const rows = await this.startVials(resolved);
      return {
        ref: resolved,
        lots: [],
        edges: [],
        vialTotal: rows.length,
        stream: Readable.from(rows),
        release: () => Promise.resolve(),
      };
    }
    const lotId = resolved.lotId!;
    const { lots, edges, vialCount } = await this.trace.forwardGraph(lotId);
    return {
      ref: resolved,
      lots: lots.map(toNode),
      edges: edges.map(toEdge),
      vialTotal: vialCount,
      ...(await this.trace.streamForwardVials(lotId)),
    };
  }

  /** The vials a vial, dose or patient reference names (a patient: every vial dosed to them). */
  private async startVials(resolved: TraceRef): Promise<TraceVialRow[]> {
    if (resolved.type === 'patient') return this.trace.patientVials(resolved.patientId!);
    const row = resolved.vialId ? await this.trace.vial(resolved.vialId) : null;
    return row ? [row] : [];
  }

  private async vial(vialId: string): Promise<TraceVial | null> {
    const row = await this.trace.vial(vialId);
    return row ? toTraceVial(row) : null;
  }
}
