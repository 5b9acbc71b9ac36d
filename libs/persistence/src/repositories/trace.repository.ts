import { Readable } from 'node:stream';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { DataSource } from 'typeorm';
import { queryPreparedOn } from '../prepared-statement.js';

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

/**
 * One downstream vial as the NDJSON stream reads it: a positional tuple of column text as PostgreSQL sent it (no
 * per-row object, no type parsing but the dose time, a Date as everywhere else). Lot and site codes are not in
 * it: the stream takes them from the graph and the site list read in the same snapshot.
 */
export type VialTuple = readonly [
  id: string,
  lotId: string,
  gtin: string,
  serial: string,
  expiry: string,
  state: string,
  holderSiteId: string,
  recalled: 't' | 'f',
  hold: string | null,
  locationId: string | null,
  locationCode: string | null,
  containerId: string | null,
  sscc: string | null,
  shipmentId: string | null,
  doseId: string | null,
  administeredAt: Date | null,
  doseSiteId: string | null,
  patientRef: string | null,
];

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

/** What an internal id names: a lot, a vial or a dose (at most one of each; ids are random UUIDs). */
export interface TraceIdRow {
  type: 'lot' | 'vial' | 'dose';
  lot_id: string;
  vial_id: string | null;
  /** The vial's current holder (vial) or the clinic that gave the dose (dose): what scopes a clinic reader. */
  site_id: string | null;
  dose_id: string | null;
  patient_id: string | null;
}

export interface DoseChain {
  doses: TraceDoseRow[];
  vials: TraceVialRow[];
  lots: TraceLotRow[];
  edges: TraceEdgeRow[];
}

export interface ForwardGraph {
  lots: TraceLotRow[];
  edges: TraceEdgeRow[];
  vialCount: number;
}

const LOT_COLUMNS = `l.id, l.code, l.kind, l.status, l.quantity::text AS quantity,
  l.remaining_quantity::text AS remaining_quantity, l.unit, l.expiry, l.site_id, s.code AS site_code, l.external_ids,
  l.attributes, l.recorded_by, u.display_name AS recorder_name, l.recorded_at, p.gtin`;
const LOT_JOINS = `JOIN site s ON s.id = l.site_id JOIN app_user u ON u.id = l.recorded_by LEFT JOIN product p ON p.id = l.product_id`;
const VIAL_COLUMNS = `v.id, v.lot_id, l.code AS lot_code, v.gtin, v.serial, v.expiry, v.state, v.holder_site_id,
  hs.code AS holder_site_code, v.recall_id, v.hold, v.location_id, loc.code AS location_code, v.container_id, c.sscc,
  c.shipment_id, d.dose_id, d.administered_at, d.dose_site_id, d.dose_site_code, d.patient_ref`;
/**
 * A vial with its current holder (site, location, shipper, shipment: mirrored on the vial row by custody) and,
 * once dispensed, its dose and pseudonymous patient (recall follow-up, ARCHITECTURE.md §4 flow 7).
 *
 * The lookups are LATERAL with LIMIT 1 (kept out of the join search: the planner would otherwise permute eight
 * relations on every page, and it merge-joined a page sorted by lot with the whole lot index, reading thousands
 * of lots to find one), the optional ones guarded by the vial's own columns, so a vial in stock costs no probe:
 * the dose is looked up only for a dispensed vial, location and shipper only when the vial names one. A page
 * picks its vials first (`vials`: a subquery aliased v) and looks up only those.
 */
const vialFrom = (
  vials = 'vial v',
): string => `${vials} CROSS JOIN LATERAL (SELECT l.code FROM lot l WHERE l.id = v.lot_id LIMIT 1) l
  JOIN site hs ON hs.id = v.holder_site_id
  LEFT JOIN LATERAL (SELECT loc.code FROM location loc
    WHERE v.location_id IS NOT NULL AND loc.id = v.location_id LIMIT 1) loc ON true
  LEFT JOIN LATERAL (SELECT c.sscc, c.shipment_id FROM container c
    WHERE v.container_id IS NOT NULL AND c.id = v.container_id LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT d.id AS dose_id, d.administered_at, d.site_id AS dose_site_id, ds.code AS dose_site_code,
      pt.ref AS patient_ref
    FROM dose d JOIN patient pt ON pt.id = d.patient_id JOIN site ds ON ds.id = d.site_id
    WHERE v.state = 'dispensed' AND d.vial_id = v.id LIMIT 1) d ON true`;

/**
 * The vials of a set of lots in the order every forward answer uses: by lot id, then serial. `lot_id = ANY(array)`
 * on the (lot_id, serial) index walks the array in sorted order, so the rows come out in that order with no
 * sort, and a page stops reading after its last row (a sort of a million vials took longer than reading them).
 */
const VIALS_OF = (lotIds: string): string => `v.lot_id = ANY(${lotIds}) ORDER BY v.lot_id, v.serial`;

/** The recursive genealogy walk down from $1 (valid edges only: a step declared in error is not part of it). */
const DESCENDANTS = `down(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.child_lot_id FROM lot_edge e JOIN down ON e.parent_lot_id = down.id WHERE e.valid)`;

/** Each lot of a walked set by id (a LATERAL per row: whatever the planner guesses the set's size to be). */
const lotsOf = (set: string) => `SELECT l.* FROM ${set} w CROSS JOIN LATERAL (
    SELECT ${LOT_COLUMNS} FROM lot l ${LOT_JOINS} WHERE l.id = w.id LIMIT 1) l`;

/**
 * The valid edges into (`child`) or out of (`parent`) each lot of a walked set, each completed by primary-key
 * lookups. Walking up, an edge into an ancestor comes from an ancestor; walking down, an edge out of a
 * descendant goes to a descendant: so these are exactly the edges between the walked lots.
 */
const edgesOf = (set: string, end: 'child' | 'parent') => `SELECT e.parent_lot_id, e.child_lot_id,
    e.transformation_id, t.occurred_at, t.operator_id, t.operator_name, ti.quantity::text AS input_quantity,
    ti.unit AS input_unit, tout.quantity::text AS output_quantity, tout.unit AS output_unit
  FROM ${set} w CROSS JOIN LATERAL (SELECT e.parent_lot_id, e.child_lot_id, e.transformation_id
    FROM lot_edge e WHERE e.${end}_lot_id = w.id AND e.valid OFFSET 0) e
  CROSS JOIN LATERAL (SELECT t.occurred_at, t.operator_id, op.display_name AS operator_name
    FROM transformation t JOIN app_user op ON op.id = t.operator_id WHERE t.id = e.transformation_id LIMIT 1) t
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_input
    WHERE transformation_id = e.transformation_id AND lot_id = e.parent_lot_id LIMIT 1) ti
  CROSS JOIN LATERAL (SELECT quantity, unit FROM transformation_output
    WHERE transformation_id = e.transformation_id AND lot_id = e.child_lot_id LIMIT 1) tout`;

/** A JSON array of a subquery's rows (numerics already text: exact decimals survive JSON). */
const jsonRows = (subquery: string, orderBy: string): string =>
  `(SELECT coalesce(json_agg(x ORDER BY ${orderBy}), '[]') FROM (${subquery}) x)`;
const LOT_ORDER = 'x.recorded_at, x.id';
const EDGE_ORDER = 'x.occurred_at, x.parent_lot_id, x.child_lot_id';

/**
 * Backward from a vial ($2, or null) of lot $1 — or from the lot alone — to the donor, as ONE statement: the vial,
 * every ancestor lot and the edges between them, each as a JSON array.
 */
const BACKWARD_CHAIN = `WITH RECURSIVE up(id) AS (
    SELECT $1::uuid
    UNION
    SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)
  SELECT
    (SELECT coalesce(json_agg(x), '[]') FROM (
       SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = $2::uuid) x) AS vials,
    ${jsonRows(lotsOf('up'), LOT_ORDER)} AS lots,
    ${jsonRows(edgesOf('up', 'child'), EDGE_ORDER)} AS edges`;

/**
 * The whole chain behind one dose, or every dose of one patient, as ONE statement (ARCHITECTURE.md §4 flow 6):
 * the doses with their pseudonymous patient and clinic, the vials, every ancestor lot (walked up the valid
 * edges from the vials' lots) and the edges between them, each as a JSON array.
 */
function doseChainSql(where: string): string {
  return `WITH RECURSIVE
  doses AS MATERIALIZED (
    SELECT d.id, d.vial_id, d.patient_id, pt.ref AS patient_ref, d.site_id, ds.code AS site_code, d.administered_at,
           d.volume_ml::text AS volume_ml, d.route, d.version, d.recorded_by, u.display_name AS recorder_name
      FROM dose d JOIN patient pt ON pt.id = d.patient_id JOIN site ds ON ds.id = d.site_id
      JOIN app_user u ON u.id = d.recorded_by
     WHERE ${where}),
  up(id) AS (
    SELECT v.lot_id FROM doses JOIN vial v ON v.id = doses.vial_id
    UNION
    SELECT e.parent_lot_id FROM lot_edge e JOIN up ON e.child_lot_id = up.id WHERE e.valid)
  SELECT
    (SELECT coalesce(json_agg(x ORDER BY x.administered_at, x.id), '[]') FROM doses x) AS doses,
    (SELECT coalesce(json_agg(x ORDER BY x.id), '[]')
       FROM doses dv CROSS JOIN LATERAL (
         SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = dv.vial_id LIMIT 1) x) AS vials,
    ${jsonRows(lotsOf('up'), LOT_ORDER)} AS lots,
    ${jsonRows(edgesOf('up', 'child'), EDGE_ORDER)} AS edges`;
}

/**
 * Forward from lot $1 as ONE statement: every downstream lot and the edges between them (JSON arrays) and how
 * many vials they hold; with `page`, also one page of those vials ($2 of them, after vial $3 when `after`).
 */
function forwardSql(page: 'none' | 'first' | 'after'): string {
  const lotIds = 'ARRAY(SELECT id FROM down)';
  // Keyset paging in the stream's own order (lot id, serial), each part an index range on (lot_id, serial): the
  // rest of the last vial's lot (when that lot is downstream), then the lots after it. (One row comparison
  // `(lot_id, serial) > (…)` beside `lot_id = ANY(…)` made PostgreSQL 15 rescan the index for every lot.)
  const pageVials =
    page === 'first'
      ? `SELECT * FROM vial v WHERE ${VIALS_OF(lotIds)} LIMIT $2`
      : `SELECT * FROM (
           (SELECT v.* FROM vial v JOIN vial a ON a.id = $3::uuid AND v.lot_id = a.lot_id AND v.serial > a.serial
             WHERE a.lot_id IN (SELECT id FROM down) ORDER BY v.serial LIMIT $2)
           UNION ALL
           (SELECT v.* FROM vial v
             WHERE ${VIALS_OF(`ARRAY(SELECT id FROM down WHERE id > (SELECT a.lot_id FROM vial a WHERE a.id = $3::uuid))`)}
             LIMIT $2)) p
         ORDER BY p.lot_id, p.serial LIMIT $2`;
  const vials =
    page === 'none'
      ? ''
      : `,
    (SELECT coalesce(json_agg(x ORDER BY x.lot_id, x.serial), '[]') FROM (
       SELECT ${VIAL_COLUMNS} FROM ${vialFrom(`(${pageVials}) v`)} ORDER BY v.lot_id, v.serial) x) AS vials`;
  return `WITH RECURSIVE ${DESCENDANTS}
  SELECT
    ${jsonRows(lotsOf('down'), LOT_ORDER)} AS lots,
    ${jsonRows(edgesOf('down', 'parent'), EDGE_ORDER)} AS edges,
    (SELECT count(*) FROM vial v WHERE v.lot_id = ANY(${lotIds}))::int AS vial_count${vials}`;
}

/**
 * The trace queries, exported so that the benchmark measures exactly these as its raw-SQL baseline. Each runs as
 * a named prepared statement (parsed and planned once per pooled connection: planning the chains cost more than
 * running them).
 */
export const TRACE_SQL = {
  /** $1: an internal id: the lot, vial or dose it names (the caller decides what the reader may see). */
  idRef: `SELECT 'lot' AS type, l.id AS lot_id, NULL::uuid AS vial_id, NULL::uuid AS site_id, NULL::uuid AS dose_id,
      NULL::uuid AS patient_id FROM lot l WHERE l.id = $1::uuid
    UNION ALL
    SELECT 'vial', v.lot_id, v.id, v.holder_site_id, NULL, NULL FROM vial v WHERE v.id = $1::uuid
    UNION ALL
    SELECT 'dose', v.lot_id, d.vial_id, d.site_id, d.id, d.patient_id FROM dose d JOIN vial v ON v.id = d.vial_id
     WHERE d.id = $1::uuid`,
  /** $1: lot code: the lot and its product's GTIN (a GS1 (01)+(10) reference must name both). */
  lotByCode: `SELECT l.id, p.gtin FROM lot l LEFT JOIN product p ON p.id = l.product_id WHERE l.code = $1`,
  /** $1: GTIN, $2: serial. */
  vialBySgtin: `SELECT v.id AS vial_id, v.lot_id, v.holder_site_id AS site_id FROM vial v
    WHERE v.gtin = $1 AND v.serial = $2`,
  /** $1: lot id; $2: the vial traced from, or null. */
  backwardChain: BACKWARD_CHAIN,
  /** patient → dose → vial → lot → … → donor from one dose ($1), in one statement. */
  doseChain: doseChainSql('d.id = $1::uuid'),
  /** The same from every dose of one patient ($1). */
  patientChain: doseChainSql('d.patient_id = $1::uuid'),
  /** $1: site code; $2: patient ref; $3: the reader's sites or null. */
  patientByCode: `SELECT p.id, p.site_id FROM patient p JOIN site s ON s.id = p.site_id
    WHERE s.code = $1 AND p.ref = $2 AND ($3::uuid[] IS NULL OR p.site_id = ANY($3::uuid[]))`,
  /** $1: site id; $2: patient ref; $3: the reader's sites or null. */
  patientBySite: `SELECT p.id, p.site_id FROM patient p
    WHERE p.site_id = $1 AND p.ref = $2 AND ($3::uuid[] IS NULL OR p.site_id = ANY($3::uuid[]))`,
  /** $1: vial id. */
  vial: `SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = $1`,
  /** $1: patient id: every vial dosed to them. */
  patientVials: `SELECT x.* FROM dose pd CROSS JOIN LATERAL (
      SELECT ${VIAL_COLUMNS} FROM ${vialFrom()} WHERE v.id = pd.vial_id LIMIT 1) x
    WHERE pd.patient_id = $1 ORDER BY x.administered_at, x.id`,
  /** $1: lot id: the downstream lots, edges and vial count. */
  forwardGraph: forwardSql('none'),
  /** $1: lot id; $2: page size: the graph and the first page of vials. */
  forwardFirstPage: forwardSql('first'),
  /** $1: lot id; $2: page size; $3: the last vial of the previous page. */
  forwardNextPage: forwardSql('after'),
  /** Every site's code, for the stream (a handful of rows, joined in memory rather than per vial). */
  siteCodes: `SELECT id, code FROM site`,
  /**
   * $1: lot ids: their vials as VialTuples, in the forward order. The optional parts are guarded by the vial's own
   * columns (CASE, LATERAL … LIMIT 1), so a vial in stock costs no probe, and no join reorders the rows.
   */
  streamVials: `SELECT v.id, v.lot_id, v.gtin, v.serial, v.expiry, v.state, v.holder_site_id,
      v.recall_id IS NOT NULL AS recalled, v.hold, v.location_id,
      CASE WHEN v.location_id IS NOT NULL THEN (SELECT loc.code FROM location loc WHERE loc.id = v.location_id) END,
      v.container_id,
      CASE WHEN v.container_id IS NOT NULL THEN (SELECT c.sscc FROM container c WHERE c.id = v.container_id) END,
      CASE WHEN v.container_id IS NOT NULL THEN (SELECT c.shipment_id FROM container c WHERE c.id = v.container_id) END,
      d.id, d.administered_at, d.site_id, d.patient_ref
    FROM vial v LEFT JOIN LATERAL (SELECT d.id, d.administered_at, d.site_id, pt.ref AS patient_ref
      FROM dose d JOIN patient pt ON pt.id = d.patient_id WHERE v.state = 'dispensed' AND d.vial_id = v.id LIMIT 1) d
      ON true
    WHERE ${VIALS_OF('$1::uuid[]')}`,
} as const;

/** Timestamps arrive in JSON as strings: the same rows as the other queries return, Dates revived. */
function revive<T>(rows: Record<string, unknown>[], dates: readonly string[]): T[] {
  for (const row of rows) {
    for (const key of dates) {
      const value = row[key];
      if (typeof value === 'string') row[key] = new Date(value);
    }
  }
  return rows as T[];
}

const reviveLots = (rows: Record<string, unknown>[]) => revive<TraceLotRow>(rows, ['recorded_at']);
const reviveEdges = (rows: Record<string, unknown>[]) => revive<TraceEdgeRow>(rows, ['occurred_at']);
const reviveVials = (rows: Record<string, unknown>[]) => revive<TraceVialRow>(rows, ['administered_at']);

/**
 * Rows fetched per cursor round trip when streaming, and so vials per chunk of the response (~2 MB). Measured on
 * the million-vial stream: 1 000 cost PostgreSQL a fifth more (each fetch resumes the portal), 10 000 cost Node
 * more than it saved (larger strings to build and collect).
 */
export const TRACE_STREAM_BATCH = 5000;

/** Column text as it comes (dates stay 'YYYY-MM-DD'); only a dose's time becomes a Date, as everywhere else. */
const rawText = (value: string): string => value;
const STREAM_TYPES = {
  getTypeParser: (oid: number): ((value: string) => unknown) =>
    oid === (pg.types.builtins.TIMESTAMPTZ as number)
      ? (pg.types.getTypeParser(oid, 'text') as (value: string) => Date)
      : rawText,
};

/** The batch interface of the cursor inside pg-query-stream (its `cursor`: a pg-cursor). */
interface BatchCursor {
  read(rows: number, done: (error: Error | undefined, rows: VialTuple[]) => void): void;
  close(): Promise<void>;
}

/**
 * Downstream vials from a server-side cursor on `client`, each batch of VialTuples handed to `format` and pushed as
 * one chunk: a million vials flow through in constant memory. pg-query-stream's own Readable pushes row by row
 * and asks for the next batch only once this one is consumed; here its cursor is read in batches and the next
 * batch is requested before this one is formatted, so PostgreSQL produces it while Node formats and writes the
 * previous one. A full consumer stops the reads (two chunks buffered, one batch in flight at most). `onClose`
 * runs once, when the stream ends, fails or is destroyed.
 */
export class VialTupleStream extends Readable {
  /** Opened by the first read: a stream destroyed before it was read never queued a query on the connection. */
  private cursor: BatchCursor | null = null;
  private inFlight = false;
  private finished = false;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly lotIds: readonly string[],
    private readonly format: (batch: VialTuple[]) => string,
    private readonly onClose: (error: Error | null) => Promise<void>,
    private readonly batchSize = TRACE_STREAM_BATCH,
  ) {
    super({ objectMode: true, highWaterMark: 2 });
  }

  override _read(): void {
    if (!this.inFlight && !this.finished) this.fetch();
  }

  private fetch(): void {
    this.inFlight = true;
    this.cursor ??= this.client.query(
      new QueryStream(TRACE_SQL.streamVials, [this.lotIds], { rowMode: 'array', types: STREAM_TYPES }),
    ).cursor as BatchCursor;
    this.cursor.read(this.batchSize, (error, rows) => {
      this.inFlight = false;
      if (this.destroyed) return;
      if (error) {
        this.destroy(error);
        return;
      }
      this.finished = rows.length < this.batchSize;
      // Room for this batch and the next: ask for the next one now, PostgreSQL works while this one is formatted.
      if (!this.finished && this.readableLength + 1 < this.readableHighWaterMark) this.fetch();
      let chunk: string;
      try {
        chunk = this.format(rows);
      } catch (formatError) {
        // Thrown here it would escape into the driver's callback and take the process down.
        this.destroy(formatError instanceof Error ? formatError : new Error(String(formatError)));
        return;
      }
      if (chunk.length > 0) this.push(chunk);
      if (this.finished) this.push(null);
    });
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A cursor still open (consumer gone, or failed) is closed before the connection is handed back.
    const closed =
      this.cursor === null || (this.finished && !this.inFlight) ? Promise.resolve() : this.cursor.close();
    closed
      .then(
        () => this.onClose(error),
        (closeError: unknown) => this.onClose(closeError instanceof Error ? closeError : error),
      )
      .then(
        () => done(error),
        (closeError: unknown) => done(error ?? (closeError instanceof Error ? closeError : null)),
      );
  }
}

export class TraceRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One statement on a pooled connection, prepared there once. */
  private async read<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner('slave');
    try {
      const client = (await runner.connect()) as pg.PoolClient;
      return await queryPreparedOn<T>(client, text, values);
    } finally {
      await runner.release();
    }
  }

  /** What an internal id names (no scope applied: the caller decides what the reader may see). */
  findById(id: string): Promise<TraceIdRow[]> {
    return this.read<TraceIdRow>(TRACE_SQL.idRef, [id]);
  }

  async findLotByCode(code: string): Promise<{ id: string; gtin: string | null } | null> {
    return (await this.read<{ id: string; gtin: string | null }>(TRACE_SQL.lotByCode, [code]))[0] ?? null;
  }

  async findVialBySgtin(
    gtin: string,
    serial: string,
  ): Promise<{ vial_id: string; lot_id: string; site_id: string } | null> {
    const rows = await this.read<{ vial_id: string; lot_id: string; site_id: string }>(
      TRACE_SQL.vialBySgtin,
      [gtin, serial],
    );
    return rows[0] ?? null;
  }

  /** Backward from lot `lotId` (and the vial `vialId` of it, when traced from a vial): one statement. */
  async backward(
    lotId: string,
    vialId: string | null,
  ): Promise<{ vial: TraceVialRow | null; lots: TraceLotRow[]; edges: TraceEdgeRow[] }> {
    const [row] = await this.read<{
      vials: Record<string, unknown>[];
      lots: Record<string, unknown>[];
      edges: Record<string, unknown>[];
    }>(TRACE_SQL.backwardChain, [lotId, vialId]);
    return {
      vial: reviveVials(row!.vials)[0] ?? null,
      lots: reviveLots(row!.lots),
      edges: reviveEdges(row!.edges),
    };
  }

  /**
   * Backward from a dose, or from all doses of a patient: one statement (see doseChainSql). The caller has
   * resolved the reference within the reader's scope.
   */
  async doseChain(by: { doseId: string } | { patientId: string }): Promise<DoseChain> {
    const [sql, id] =
      'doseId' in by ? [TRACE_SQL.doseChain, by.doseId] : [TRACE_SQL.patientChain, by.patientId];
    const [row] = await this.read<Record<keyof DoseChain, Record<string, unknown>[]>>(sql, [id]);
    return {
      doses: revive<TraceDoseRow>(row!.doses, ['administered_at']),
      vials: reviveVials(row!.vials),
      lots: reviveLots(row!.lots),
      edges: reviveEdges(row!.edges),
    };
  }

  /** A patient of a clinic (by site id or code), if the reader may see it. */
  async findPatient(
    site: { id: string } | { code: string },
    patientRef: string,
    siteIds: readonly string[] | null,
  ): Promise<{ id: string; site_id: string } | null> {
    const [sql, key] =
      'id' in site ? [TRACE_SQL.patientBySite, site.id] : [TRACE_SQL.patientByCode, site.code];
    const rows = await this.read<{ id: string; site_id: string }>(sql, [key, patientRef, siteIds]);
    return rows[0] ?? null;
  }

  patientVials(patientId: string): Promise<TraceVialRow[]> {
    return this.read<TraceVialRow>(TRACE_SQL.patientVials, [patientId]);
  }

  async vial(vialId: string): Promise<TraceVialRow | null> {
    return (await this.read<TraceVialRow>(TRACE_SQL.vial, [vialId]))[0] ?? null;
  }

  /**
   * The downstream graph of `lotId` and one page of its vials in forward order (by lot, then serial), after the
   * vial `afterId` when given: one statement.
   */
  async forwardPage(
    lotId: string,
    limit: number,
    afterId?: string,
  ): Promise<ForwardGraph & { vials: TraceVialRow[] }> {
    const sql = afterId ? TRACE_SQL.forwardNextPage : TRACE_SQL.forwardFirstPage;
    const [row] = await this.read<{
      lots: Record<string, unknown>[];
      edges: Record<string, unknown>[];
      vial_count: number;
      vials: Record<string, unknown>[];
    }>(sql, afterId ? [lotId, limit, afterId] : [lotId, limit]);
    return {
      lots: reviveLots(row!.lots),
      edges: reviveEdges(row!.edges),
      vialCount: row!.vial_count,
      vials: reviveVials(row!.vials),
    };
  }

  /**
   * Every downstream vial of `lotId`, streamed. The graph, the site codes, the vial count and the vials are read
   * in ONE snapshot (a read-only REPEATABLE READ transaction on a dedicated connection), so the header's count
   * is the number of vial lines and every vial's lot is among the graph's lots. `vials(format)` opens the cursor
   * (call it once); the connection goes back to the pool when that stream closes, or on `abandon()` if the
   * stream is never opened.
   */
  async openForwardStream(lotId: string): Promise<
    ForwardGraph & {
      siteCodes: Map<string, string>;
      vials: (format: (batch: VialTuple[]) => string, batchSize?: number) => VialTupleStream;
      abandon: () => Promise<void>;
    }
  > {
    const runner = this.dataSource.createQueryRunner('slave');
    const client = (await runner.connect()) as pg.PoolClient;
    let open = true;
    const close = async (error: Error | null): Promise<void> => {
      if (!open) return;
      open = false;
      try {
        await client.query(error ? 'ROLLBACK' : 'COMMIT');
      } finally {
        await runner.release();
      }
    };
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const [graph] = await queryPreparedOn<{
        lots: Record<string, unknown>[];
        edges: Record<string, unknown>[];
        vial_count: number;
      }>(client, TRACE_SQL.forwardGraph, [lotId]);
      const sites = await queryPreparedOn<{ id: string; code: string }>(client, TRACE_SQL.siteCodes, []);
      const lots = reviveLots(graph!.lots);
      return {
        lots,
        edges: reviveEdges(graph!.edges),
        vialCount: graph!.vial_count,
        siteCodes: new Map(sites.map((s) => [s.id, s.code])),
        vials: (format, batchSize) =>
          new VialTupleStream(
            client,
            lots.map((l) => l.id),
            format,
            close,
            batchSize,
          ),
        abandon: () => close(null),
      };
    } catch (error) {
      await close(error as Error).catch(() => undefined);
      throw error;
    }
  }
}
