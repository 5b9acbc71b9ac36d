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
  TraceRepository,
  type TraceDoseRow,
  type TraceEdgeRow,
  type TraceLotRow,
  type TraceVialRow,
  type VialTuple,
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

/** A JSON string literal, or null. */
const jsonText = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));
/** A UUID as JSON: PostgreSQL prints them as hex and dashes, nothing to escape. */
const jsonUuid = (value: string | null): string => (value === null ? 'null' : `"${value}"`);
/** What JSON must escape inside a string (RFC 8259 §7): quote, backslash, U+0000–U+001F. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
/** A JSON string literal: quotes alone when nothing needs escaping (serials, GTINs, dates, states). */
const jsonString = (value: string): string =>
  NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;

/** A dispensed vial's dose as JSON (toTraceVial's `dose`), or null. */
function doseLine(t: VialTuple, sites: ReadonlyMap<string, string>): string {
  const [doseId, administeredAt, doseSiteId, patientRef] = [t[14], t[15], t[16], t[17]];
  if (!doseId || !administeredAt || !doseSiteId || patientRef === null) return 'null';
  return (
    `{"id":"${doseId}","administeredAt":"${administeredAt.toISOString()}","site":{"id":"${doseSiteId}",` +
    `"code":${sites.get(doseSiteId) ?? '""'}},"patientRef":${JSON.stringify(patientRef)}}`
  );
}

/** What most vials end with: no location, shipper, hold, recall or dose. */
const PLAIN_TAIL =
  '"locationId":null,"locationCode":null,"containerId":null,"sscc":null,"shipmentId":null},' +
  '"hold":null,"recalled":false,"dose":null}\n';

/**
 * The NDJSON line of each vial of a batch, written as a template from the raw tuple: byte for byte what
 * `JSON.stringify({ type: 'vial', ...toTraceVial(row) })` gives for the same vial (the unit test holds both to
 * it), without building two objects per vial and walking them again. At a million vials that walk was most of
 * the stream's time, and so is the number of pieces a line is made of: what repeats (a lot's code, a site's,
 * a state, the tail of a vial with nothing else to say) is one piece, made once. Lot and site codes come from
 * the graph and site list read in the same snapshot as the vials.
 */
export function vialLineFormat(
  lotCodes: ReadonlyMap<string, string>,
  siteCodes: ReadonlyMap<string, string>,
): (batch: readonly VialTuple[]) => string {
  const sites = new Map([...siteCodes].map(([id, code]) => [id, JSON.stringify(code)]));
  const known = (codes: ReadonlyMap<string, string>, id: string, what: string): string => {
    const code = codes.get(id);
    if (code === undefined) throw new Error(`${what} ${id} is not in the trace's snapshot`);
    return code;
  };
  // Consecutive vials share their lot (the stream is ordered by lot), usually their GTIN, expiry, state, site.
  let lotId = '';
  let lotPart = '';
  let gtin = '';
  let gtinPart = '';
  let expiry = '';
  let expiryPart = '';
  let state = '';
  let statePart = '';
  let siteId = '';
  let sitePart = '';
  return (batch) => {
    let out = '';
    for (const t of batch) {
      if (t[1] !== lotId) {
        lotId = t[1];
        lotPart = `","lotId":"${lotId}","lotCode":${JSON.stringify(known(lotCodes, lotId, 'lot'))},"gtin":`;
      }
      if (t[2] !== gtin) {
        gtin = t[2];
        gtinPart = `${jsonString(gtin)},"serial":`;
      }
      if (t[4] !== expiry) {
        expiry = t[4];
        expiryPart = `,"expiry":${jsonString(expiry)},"state":`;
      }
      if (t[5] !== state) {
        state = t[5];
        statePart = `${jsonString(state)},"holder":{"siteId":"`;
      }
      if (t[6] !== siteId) {
        siteId = t[6];
        sitePart = `${siteId}","siteCode":${known(sites, siteId, 'site')},`;
      }
      // Indexed rather than destructured: this loop runs a million times.
      const locationId = t[9];
      const containerId = t[11];
      const doseId = t[14];
      const tail =
        locationId === null && containerId === null && t[8] === null && t[7] === 'f' && doseId === null
          ? PLAIN_TAIL
          : `"locationId":${jsonUuid(locationId)},"locationCode":${jsonText(t[10])},` +
            `"containerId":${jsonUuid(containerId)},"sscc":${jsonText(t[12])},"shipmentId":${jsonUuid(t[13])}},` +
            `"hold":${jsonText(t[8])},"recalled":${t[7] === 't'},"dose":${doseLine(t, sites)}}\n`;
      out += `{"type":"vial","id":"${t[0]}${lotPart}${gtinPart}${jsonString(t[3])}${expiryPart}${statePart}${sitePart}${tail}`;
    }
    return out;
  };
}

/** The NDJSON line of a vial read as a row (the few vials a vial, dose or patient reference names). */
const vialRowLine = (row: TraceVialRow): string =>
  `${JSON.stringify({ type: 'vial', ...toTraceVial(row) })}\n`;

/** The NDJSON lines before the vials: the trace (with how many vial lines follow), its lots, its edges. */
function ndjsonHead(ref: TraceRef, lots: TraceNode[], edges: TraceEdge[], vialTotal: number): string {
  let head = `${JSON.stringify({ type: 'trace', ref, vialTotal })}\n`;
  for (const lot of lots) head += `${JSON.stringify({ type: 'lot', ...lot })}\n`;
  for (const edge of edges) head += `${JSON.stringify({ type: 'edge', ...edge })}\n`;
  return head;
}

/** `head`, then the chunks of `vialLines`; however the result ends, `vialLines` is destroyed (its cursor closed). */
function ndjson(head: string, vialLines: Readable): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield head;
    for await (const chunk of vialLines) yield chunk as string;
  }
  const body = Readable.from(lines(), { objectMode: false });
  body.once('close', () => vialLines.destroy());
  return body;
}

const PATIENT_PREFIX = 'patient:';

/**
 * Traces through the genealogy (ARCHITECTURE.md §4 flows 6–7): backward from a patient, dose, vial or lot to
 * the donor, forward from any node to every lot and vial made from it, with their holders and doses.
 */
@Injectable()
export class TraceService {
  constructor(
    private readonly trace: TraceRepository,
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
      // One round trip for all three kinds; a lot is taken before a vial before a dose (random ids never tie).
      const found = await this.trace.findById(raw);
      const lot = found.find((r) => r.type === 'lot');
      if (lot) return lotRef(lot.lot_id);
      const vial = found.find((r) => r.type === 'vial');
      if (vial) return vialRef({ id: vial.vial_id!, lotId: vial.lot_id, holderSiteId: vial.site_id! });
      const dose = found.find((r) => r.type === 'dose');
      // A clinic sees the doses it gave, no other (ARCHITECTURE.md §1).
      if (dose && (!scope || scope.includes(dose.site_id!))) {
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
      const lot = await this.trace.findLotByCode(raw);
      if (!lot) throw unknown();
      return lotRef(lot.id);
    }
    if (gs1.gtin && gs1.serial) {
      const vial = await this.trace.findVialBySgtin(gs1.gtin, gs1.serial);
      if (!vial) throw unknown();
      return vialRef({ id: vial.vial_id, lotId: vial.lot_id, holderSiteId: vial.site_id });
    }
    if (gs1.gtin && gs1.lot) {
      const lot = await this.trace.findLotByCode(gs1.lot);
      if (!lot || lot.gtin !== gs1.gtin) throw unknown();
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
    // vial (or lot) → lots → … → donor: one statement.
    const { vial: row, lots, edges } = await this.trace.backward(resolved.lotId!, resolved.vialId);
    const vial = row ? toTraceVial(row) : null;
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
    // The graph, the count and one page of vials (in stream order: by lot, then serial): one statement.
    const { lots, edges, vialCount, vials } = await this.trace.forwardPage(
      resolved.lotId!,
      page.limit + 1,
      page.after,
    );
    const more = vials.length > page.limit;
    const shown = (more ? vials.slice(0, page.limit) : vials).map(toTraceVial);
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

  /**
   * The forward trace of `ref` as NDJSON, for one resolution of `ref`: a `trace` line (with `vialTotal`), the
   * `lot` and `edge` lines, then every downstream vial in the order of the paged form. Destroying or finishing the
   * stream hands its connection back, whether or not it was ever read.
   */
  async forwardStream(ref: string, actor: Actor): Promise<Readable> {
    const resolved = await this.resolve(ref, actor);
    if (resolved.type !== 'lot') {
      // The same answer as the JSON form: the vials named, no graph.
      const rows = await this.startVials(resolved);
      return ndjson(
        ndjsonHead(resolved, [], [], rows.length),
        Readable.from([rows.map(vialRowLine).join('')].filter((text) => text.length > 0)),
      );
    }
    // Graph, count and vials in one snapshot: the header's total is the number of vial lines that follow.
    const session = await this.trace.openForwardStream(resolved.lotId!);
    try {
      const format = vialLineFormat(new Map(session.lots.map((l) => [l.id, l.code])), session.siteCodes);
      const head = ndjsonHead(
        resolved,
        session.lots.map(toNode),
        session.edges.map(toEdge),
        session.vialCount,
      );
      return ndjson(head, session.vials(format));
    } catch (error) {
      await session.abandon();
      throw error;
    }
  }

  /** The vials a vial, dose or patient reference names (a patient: every vial dosed to them). */
  private async startVials(resolved: TraceRef): Promise<TraceVialRow[]> {
    if (resolved.type === 'patient') return this.trace.patientVials(resolved.patientId!);
    const row = resolved.vialId ? await this.trace.vial(resolved.vialId) : null;
    return row ? [row] : [];
  }
}
