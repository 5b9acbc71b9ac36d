import type { Readable } from 'node:stream';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { DataSource } from 'typeorm';

export interface TraceLotRow {
  id: string;
  code: string;
  kind: string;
  status: string;
  quantity: string;
  remaining_quantity: string;
  unit: string;
  expiry: string | null;
  site_id: string;
  site_code: string;
  external_ids: Record<string, string>;
  attributes: Record<string, unknown>;
  recorded_by: string;
  recorder_name: string;
  recorded_at: Date;
  gtin: string | null;
}

export interface TraceEdgeRow {
  parent_lot_id: string;
  child_lot_id: string;
  transformation_id: string;
  occurred_at: Date;
  operator_id: string;
  operator_name: string;
  input_quantity: string;
  input_unit: string;
  output_quantity: string;
  output_unit: string;
}

export interface TraceVialRow {
  id: string;
  lot_id: string;
  lot_code: string;
  gtin: string;
  serial: string;
  expiry: string;
  state: string;
  holder_site_id: string;
  holder_site_code: string;
  recall_id: string | null;
  hold: string | null;
  location_id: string | null;
  location_code: string | null;
  container_id: string | null;
  sscc: string | null;
  shipment_id: string | null;
  /** The dose the vial was given as, when dispensed (dose_site_* is the clinic that gave it). */
  dose_id: string | null;
  administered_at: Date | null;
  dose_site_id: string | null;
  dose_site_code: string | null;
  patient_ref: string | null;
}

/** A dose at the head of a backward trace: who (pseudonym), where, when, how much, which vial. */
export interface TraceDoseRow {
  id: string;
  vial_id: string;
  patient_id: string;
  patient_ref: string;
  site_id: string;
  site_code: string;
  administered_at: Date;
  volume_ml: string;
  route: string;
  version: number;
  recorded_by: string;
  recorder_name: string;
}

/** What a dose or patient reference names, found in the reader's scope. */
export interface TraceDoseRef {
  dose_id: string;
  vial_id: string;
  lot_id: string;
  patient_id: string;
  site_id: string;
}

export interface DoseChain {
  doses: TraceDoseRow[];
  vials: TraceVialRow[];
  lots: TraceLotRow[];
  edges: TraceEdgeRow[];
}

const LOT_COLUMNS = `l.id, l.code, l.kind, l.status, l.quantity, l.remaining_quantity, l.unit, l.expiry, l.site_id,
  s.code AS site_code, l.external_ids, l.attributes, l.recorded_by, u.display_name AS recorder_name, l.recorded_at, p.gtin`;
const LOT_JOINS = `JOIN site s ON s.id = l.site_id JOIN app_user u ON u.id = l.recorded_by LEFT JOIN product p ON p.id = l.product_id`;
const VIAL_COLUMNS = `v.id, v.lot_id, l.code AS lot_code, v.gtin, v.serial, v.expiry, v.state, v.holder_site_id,
  hs.code AS holder_site_code, v.recall_id, v.hold, v.location_id, loc.code AS location_code, v.container_id, c.sscc,
  c.shipment_id, d.dose_id, d.administered_at, d.dose_site_id, d.dose_site_code, d.patient_ref`;
/**
 * A vial with its current holder (site, location, shipper, shipment: mirrored on the vial row by custody) and,
 * once dispensed, its dose and pseudonymous patient (recall follow-up, ARCHITECTURE.md §4 flow 7).
 *
 * The optional parts are LATERAL lookups with LIMIT 1 (kept out of the join search: the planner would otherwise
 * permute eight relations on every page) guarded by the vial's own columns, so a vial in stock costs no probe:
 * the dose is looked up only for a dispensed vial, location and shipper only when the vial names one. A page
 * picks its vials first (`vials`: a subquery aliased v) and looks up only those.
 */
const vialFrom = (
  vials = 'vial v',
): string => `${vials} JOIN lot l ON l.id = v.lot_id JOIN site hs ON hs.id = v.holder_site_id
  LEFT JOIN LATERAL (SELECT loc.code FROM location loc
    WHERE v.location_id IS NOT NULL AND loc.id = v.location_id LIMIT 1) loc ON true
  LEFT JOIN LATERAL (SELECT c.sscc, c.shipment_id FROM container c
    WHERE v.container_id IS NOT NULL AND c.id = v.container_id LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT d.id AS dose_id, d.administered_at, d.site_id AS dose_site_id, ds.code AS dose_site_code,
      pt.ref AS patient_ref
    FROM dose d JOIN patient pt ON pt.id = d.patient_id JOIN site ds ON ds.id = d.site_id
    WHERE v.state = 'dispensed' AND d.vial_id = v.id LIMIT 1) d ON true`;

/** The recursive genealogy walks (valid edges only: a step declared in error is not part of the chain). */
const ANCESTORS = `WITH RECURSIVE up(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)`;
const DESCENDANTS = `WITH RECURSIVE down(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.child_lot_id FROM lot_edge e JOIN down ON e.parent_lot_id = down.id WHERE e.valid)`;

/**
 * The lots of a walked set, each looked up by id (a LATERAL per row: the planner cannot start from the lot
 * table, whatever it guesses the size of the recursive set to be).
 */
const LOTS_OF = (set: 'up' | 'down') => `SELECT l.* FROM ${set} CROSS JOIN LATERAL (
    SELECT ${LOT_COLUMNS} FROM lot l ${LOT_JOINS} WHERE l.id = ${set}.id LIMIT 1) l
  ORDER BY l.recorded_at`;

/**
 * The valid edges met walking up (child → parent) or down (parent → child) from $1, each completed by
 * primary-key lookups. Same set as "both ends in the walked lots": an edge into an ancestor comes from an
 * ancestor, an edge out of a descendant goes to a descendant.
 */
const EDGES_WALKED = (dir: 'up' | 'down') => {
  const [from, to] = dir === 'up' ? ['child_lot_id', 'parent_lot_id'] : ['parent_lot_id', 'child_lot_id'];
  return `WITH RECURSIVE walk(parent_lot_id, child_lot_id, transformation_id) AS (
    SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id FROM lot_edge e WHERE e.${from} = $1::uuid AND e.valid
    UNION
    SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id FROM walk w JOIN lot_edge e ON e.${from} = w.${to} WHERE e.valid)
  SELECT w.parent_lot_id, w.child_lot_id, w.transformation_id, t.occurred_at, t.operator_id, t.operator_name,
    ti.quantity AS input_quantity, ti.unit AS input_unit, tout.quantity AS output_quantity, tout.unit AS output_unit
  FROM walk w
  CROSS JOIN LATERAL (SELECT t.occurred_at, t.operator_id, op.display_name AS operator_name
    FROM transformation t JOIN app_user op ON op.id = t.operator_id WHERE t.id = w.transformation_id LIMIT 1) t
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_input
    WHERE transformation_id = w.transformation_id AND lot_id = w.parent_lot_id LIMIT 1) ti
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_output
    WHERE transformation_id = w.transformation_id AND lot_id = w.child_lot_id LIMIT 1) tout
  ORDER BY t.occurred_at, w.parent_lot_id, w.child_lot_id`;
};

/** JSON keeps numerics as text (exact decimals) and timestamps as ISO strings, revived to Dates below. */
const asJsonRows = (alias: string, numerics: readonly string[]): string =>
  numerics.length === 0
    ? `to_jsonb(${alias})`
    : `to_jsonb(${alias}) || jsonb_build_object(${numerics.map((n) => `'${n}', ${alias}.${n}::text`).join(', ')})`;

/**
 * The whole chain behind one dose, or every dose of one patient, as ONE statement (ARCHITECTURE.md §4 flow 6):
 * the doses with their pseudonymous patient and clinic, the vials, every ancestor lot (walked up the valid
 * edges from the vials' lots) and the edges between them, each as a JSON array. Edges: those into an ancestor,
 * which come from an ancestor by construction; each completed by primary-key lookups, as in the walks above.
 */
function doseChainSql(where: string): string {
  return `WITH RECURSIVE
  doses AS MATERIALIZED (
    SELECT d.id, d.vial_id, d.patient_id, pt.ref AS patient_ref, d.site_id, ds.code AS site_code, d.administered_at,
           d.volume_ml, d.route, d.version, d.recorded_by, u.display_name AS recorder_name
      FROM dose d JOIN patient pt ON pt.id = d.patient_id JOIN site ds ON ds.id = d.site_id
      JOIN app_user u ON u.id = d.recorded_by
     WHERE ${where}),
  up(id) AS (
    SELECT v.lot_id FROM doses JOIN vial v ON v.id = doses.vial_id
    UNION
    SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)
  SELECT
    (SELECT coalesce(jsonb_agg(${asJsonRows('x', ['volume_ml'])} ORDER BY x.administered_at, x.id), '[]')
       FROM doses x) AS doses,
    (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.id), '[]')
       FROM doses dv CROSS JOIN LATERAL (
         SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = dv.vial_id LIMIT 1) x) AS vials,
    (SELECT coalesce(jsonb_agg(${asJsonRows('x', ['quantity', 'remaining_quantity'])} ORDER BY x.recorded_at, x.id), '[]')
       FROM (SELECT l.* FROM up CROSS JOIN LATERAL (
               SELECT ${LOT_COLUMNS} FROM lot l ${LOT_JOINS} WHERE l.id = up.id LIMIT 1) l) x) AS lots,
    (SELECT coalesce(jsonb_agg(${asJsonRows('x', ['input_quantity', 'output_quantity'])}
                               ORDER BY x.occurred_at, x.parent_lot_id, x.child_lot_id), '[]')
       FROM (SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id, t.occurred_at, t.operator_id, t.operator_name,
                    ti.quantity AS input_quantity, ti.unit AS input_unit, tout.quantity AS output_quantity,
                    tout.unit AS output_unit
               FROM up CROSS JOIN LATERAL (SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id
                 FROM lot_edge e WHERE e.child_lot_id = up.id AND e.valid OFFSET 0) e
               CROSS JOIN LATERAL (SELECT t.occurred_at, t.operator_id, op.display_name AS operator_name
                 FROM transformation t JOIN app_user op ON op.id = t.operator_id WHERE t.id = e.transformation_id LIMIT 1) t
               CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_input
                 WHERE transformation_id = e.transformation_id AND lot_id = e.parent_lot_id LIMIT 1) ti
               CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_output
                 WHERE transformation_id = e.transformation_id AND lot_id = e.child_lot_id LIMIT 1) tout) x) AS edges`;
}

/**
 * The trace queries, exported so that the benchmark measures exactly these as its raw-SQL baseline.
 * $1 is the starting lot id throughout.
 */
export const TRACE_SQL = {
  backwardLots: `${ANCESTORS} ${LOTS_OF('up')}`,
  backwardEdges: EDGES_WALKED('up'),
  forwardLots: `${DESCENDANTS} ${LOTS_OF('down')}`,
  forwardEdges: EDGES_WALKED('down'),
  forwardCount: `${DESCENDANTS} SELECT count(*) AS n FROM vial v WHERE v.lot_id IN (SELECT id FROM down)`,
  /** $2: keyset position (vial id) or null; $3: page size. */
  forwardVials: `${DESCENDANTS}
       SELECT ${VIAL_COLUMNS} FROM ${vialFrom(`(SELECT * FROM vial v
          WHERE v.lot_id IN (SELECT id FROM down) AND ($2::uuid IS NULL OR v.id > $2::uuid)
          ORDER BY v.id LIMIT $3) v`)}
        ORDER BY v.id`,
  streamVials: `${DESCENDANTS}
       SELECT ${VIAL_COLUMNS} FROM ${vialFrom()}
        WHERE v.lot_id IN (SELECT id FROM down) ORDER BY v.lot_id, v.serial`,
  vial: `SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = $1`,
  /** $1: vial ids. */
  /** patient → dose → vial → lot → … → donor from one dose ($1), in one statement. */
  doseChain: doseChainSql('d.id = $1::uuid'),
  /** The same from every dose of one patient ($1). */
  patientChain: doseChainSql('d.patient_id = $1::uuid'),
  /** $1: dose id; $2: the reader's sites or null. */
  doseRef: `SELECT d.id AS dose_id, d.vial_id, v.lot_id, d.patient_id, d.site_id FROM dose d JOIN vial v ON v.id = d.vial_id
    WHERE d.id = $1 AND ($2::uuid[] IS NULL OR d.site_id = ANY($2::uuid[]))`,
  /** $1: site code; $2: patient ref; $3: the reader's sites or null. */
  patientByCode: `SELECT p.id, p.site_id FROM patient p JOIN site s ON s.id = p.site_id
    WHERE s.code = $1 AND p.ref = $2 AND ($3::uuid[] IS NULL OR p.site_id = ANY($3::uuid[]))`,
  /** $1: site id; $2: patient ref; $3: the reader's sites or null. */
  patientBySite: `SELECT p.id, p.site_id FROM patient p
    WHERE p.site_id = $1 AND p.ref = $2 AND ($3::uuid[] IS NULL OR p.site_id = ANY($3::uuid[]))`,
  /** $1: patient id: every vial dosed to them. */
  patientVials: `SELECT x.* FROM dose pd CROSS JOIN LATERAL (
      SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = pd.vial_id LIMIT 1) x
    WHERE pd.patient_id = $1 ORDER BY x.administered_at, x.id`,
} as const;

/** Timestamps arrive in JSON as strings: the same rows as the other queries return, Dates revived. */
function revive<T>(rows: Record<string, unknown>[], dates: readonly string[]): T[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = { ...row };
    for (const key of dates) {
      const value = out[key];
      if (typeof value === 'string') out[key] = new Date(value);
    }
    return out as T;
  });
}

/** Rows fetched per cursor round trip when streaming (TypeORM's own stream fetches 100). */
export const TRACE_STREAM_BATCH = 1000;

export class TraceRepository {
  constructor(private readonly dataSource: DataSource) {}

  async backward(lotId: string): Promise<{ lots: TraceLotRow[]; edges: TraceEdgeRow[] }> {
    const [lots, edges] = await Promise.all([
      this.dataSource.query<TraceLotRow[]>(TRACE_SQL.backwardLots, [lotId]),
      this.dataSource.query<TraceEdgeRow[]>(TRACE_SQL.backwardEdges, [lotId]),
    ]);
    return { lots, edges };
  }

  async forwardGraph(
    lotId: string,
  ): Promise<{ lots: TraceLotRow[]; edges: TraceEdgeRow[]; vialCount: number }> {
    const [lots, edges, count] = await Promise.all([
      this.dataSource.query<TraceLotRow[]>(TRACE_SQL.forwardLots, [lotId]),
      this.dataSource.query<TraceEdgeRow[]>(TRACE_SQL.forwardEdges, [lotId]),
      this.dataSource.query<{ n: string }[]>(TRACE_SQL.forwardCount, [lotId]),
    ]);
    return { lots, edges, vialCount: Number(count[0]?.n ?? 0) };
  }

  /**
   * Backward from a dose, or from all doses of a patient: one statement (see doseChainSql). The caller has
   * resolved the reference within the reader's scope.
   */
  async doseChain(by: { doseId: string } | { patientId: string }): Promise<DoseChain> {
    const [sql, id] =
      'doseId' in by ? [TRACE_SQL.doseChain, by.doseId] : [TRACE_SQL.patientChain, by.patientId];
    const rows = await this.dataSource.query<
      {
        doses: Record<string, unknown>[];
        vials: Record<string, unknown>[];
        lots: Record<string, unknown>[];
        edges: Record<string, unknown>[];
      }[]
    >(sql, [id]);
    const row = rows[0]!;
    return {
      doses: revive<TraceDoseRow>(row.doses, ['administered_at']),
      vials: revive<TraceVialRow>(row.vials, ['administered_at']),
      lots: revive<TraceLotRow>(row.lots, ['recorded_at']),
      edges: revive<TraceEdgeRow>(row.edges, ['occurred_at']),
    };
  }

  /** A dose the reader may see (null: none, or another clinic's). */
  async findDoseRef(doseId: string, siteIds: readonly string[] | null): Promise<TraceDoseRef | null> {
    const rows = await this.dataSource.query<TraceDoseRef[]>(TRACE_SQL.doseRef, [doseId, siteIds]);
    return rows[0] ?? null;
  }

  /** A patient of a clinic (by site id or code), if the reader may see it. */
  async findPatient(
    site: { id: string } | { code: string },
    patientRef: string,
    siteIds: readonly string[] | null,
  ): Promise<{ id: string; site_id: string } | null> {
    const [sql, key] =
      'id' in site ? [TRACE_SQL.patientBySite, site.id] : [TRACE_SQL.patientByCode, site.code];
    const rows = await this.dataSource.query<{ id: string; site_id: string }[]>(sql, [
      key,
      patientRef,
      siteIds,
    ]);
    return rows[0] ?? null;
  }

  patientVials(patientId: string): Promise<TraceVialRow[]> {
    return this.dataSource.query<TraceVialRow[]>(TRACE_SQL.patientVials, [patientId]);
  }

  async vial(vialId: string): Promise<TraceVialRow | null> {
    const rows = await this.dataSource.query<TraceVialRow[]>(TRACE_SQL.vial, [vialId]);
    return rows[0] ?? null;
  }

  /** One page of the downstream vials, keyset-paged on vial id. */
  forwardVials(lotId: string, limit: number, afterId?: string): Promise<TraceVialRow[]> {
    return this.dataSource.query<TraceVialRow[]>(TRACE_SQL.forwardVials, [lotId, afterId ?? null, limit]);
  }

  /**
   * Every downstream vial as a row stream from a server-side cursor: a million rows flow through in constant
   * memory. The caller must call `release()` when done (or on error).
   */
  async streamForwardVials(lotId: string): Promise<{ stream: Readable; release: () => Promise<void> }> {
    const runner = this.dataSource.createQueryRunner('slave');
    // pg-query-stream directly: TypeORM's runner.stream() fetches 100 rows per round trip.
    const client = (await runner.connect()) as pg.PoolClient;
    const stream = client.query(
      new QueryStream(TRACE_SQL.streamVials, [lotId], { batchSize: TRACE_STREAM_BATCH }),
    ) as Readable;
    return { stream, release: () => runner.release() };
  }
}
